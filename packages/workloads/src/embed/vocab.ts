/**
 * A deterministic WordPiece vocabulary, generated in code: no real vocabulary ships offline.
 *
 * The order (hence every token id) is fixed by this file:
 *
 * 1. the special tokens `[PAD]`=0, `[UNK]`=1, `[CLS]`=2, `[SEP]`=3, `[MASK]`=4;
 * 2. the single characters a–z, 0–9 and ASCII punctuation, then their `##` forms;
 * 3. every two-letter continuation `##aa` … `##zz`;
 * 4. the suffix pieces of `SUFFIXES` (`##ing`, `##tion`, …);
 * 5. the common English words of `WORDS`.
 *
 * Duplicates keep their first id. The result has {@link EMBED_VOCAB_SIZE} entries; changing
 * anything here changes the model (its embedding table) and so needs a new workload version.
 */

export const PAD_TOKEN = '[PAD]'
export const UNK_TOKEN = '[UNK]'
export const CLS_TOKEN = '[CLS]'
export const SEP_TOKEN = '[SEP]'
export const MASK_TOKEN = '[MASK]'

/** the number of entries of {@link embedVocab} */
export const EMBED_VOCAB_SIZE = 2106

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'

/** continuation pieces: inflections and derivations */
const SUFFIXES = `
  s es ed d ing ings er ers est ly ally ily tion tions sion sions ation ations ment ments ness
  ful fully less lessly able ably ible ibly al als ial ic ics ical ically ous ious ously ive ives
  ively ity ities ize izes ized izing ise ised ising ance ances ence ences ant ants ent ents ism
  isms ist ists y ies ied ier iest en ens ened ening ship ships hood ward wards like ish age ages
  ery ory ary ure ures ture tures or ors ee ees ette let lets ling dom th ty fy fied fies ify
  ate ates ated ating ator ators ative ian ians an ans ine ite ites um a o on ons in ins
  le les el els et ets ia ium ius us i e ar ard ards ock ore one ones ain ains all ell ill
  ack ick ight ought ound ong ung ank ink unt
`

/** whole words, most common English first (roughly) */
const WORDS = `
  the of and to a in is it you that he was for on are with as i his they be at one have this
  from or had by not word but what some we can out other were all there when up use your how
  said an each she which do their time if will way about many then them write would like so
  these her long make thing see him two has look more day could go come did number sound no
  most people my over know water than call first who may down side been now find any new work
  part take get place made live where after back little only round man year came show every
  good me give our under name very through just form sentence great think say help low line
  differ turn cause much mean before move right boy old too same tell does set three want air
  well also play small end put home read hand port large spell add even land here must big
  high such follow act why ask men change went light kind off need house picture try us again
  animal point mother world near build self earth father head stand own page should country
  found answer school grow study still learn plant cover food sun four between state keep eye
  never last let thought city tree cross farm hard start might story saw far sea draw left late
  run don't while press close night real life few north open seem together next white children
  begin got walk example ease paper group always music those both mark often letter until mile
  river car feet care second book carry took science eat room friend began idea fish mountain
  stop once base hear horse cut sure watch color face wood main enough plain girl usual young
  ready above ever red list though feel talk bird soon body dog family direct pose leave song
  measure door product black short numeral class wind question happen complete ship area half
  rock order fire south problem piece told knew pass since top whole king space heard best hour
  better true during hundred five remember step early hold west ground interest reach fast verb
  sing listen six table travel less morning ten simple several vowel toward war lay against
  pattern slow center love person money serve appear road map rain rule govern pull cold notice
  voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star
  box noun field rest correct able pound done beauty drive stood contain front teach week final
  gave green oh quick develop ocean warm free minute strong special mind behind clear tail
  produce fact street inch multiply nothing course stay wheel full force blue object decide
  surface deep moon island foot system busy test record boat common gold possible plane stead
  dry wonder laugh thousand ago ran check game shape equate hot miss brought heat snow tire
  bring yes distant fill east paint language among grand ball yet wave drop heart am present
  heavy dance engine position arm wide sail material size vary settle speak weight general ice
  matter circle pair include divide syllable felt perhaps pick sudden count square reason
  length represent art subject region energy hunt probable bed brother egg ride cell believe
  fraction forest sit race window store summer train sleep prove lone exercise wall catch mount
  wish sky board joy winter sat written wild instrument kept glass grass cow job edge sign visit
  past soft fun bright gas weather month million bear finish happy hope flower clothe strange
  gone jump baby eight village meet root buy raise solve metal whether push seven paragraph
  third shall held hair describe cook floor either result burn hill safe cat century consider
  type law bit coast copy phrase silent tall sand soil roll temperature finger industry value
  fight lie beat excite natural view sense ear else quite broke case middle kill son lake moment
  scale loud spring observe child straight consonant nation dictionary milk speed method organ
  pay age section dress cloud surprise quiet stone tiny climb cool design poor lot experiment
  bottom key iron single stick flat twenty skin smile crease hole trade melody trip office
  receive row mouth exact symbol die least trouble shout except wrote seed tone join suggest
  clean break lady yard rise bad blow oil blood touch grew cent mix team wire cost lost brown
  wear garden equal sent choose fell fit flow fair bank collect save control decimal gentle
  woman captain practice separate difficult doctor please protect noon whose locate ring
  character insect caught period indicate radio spoke atom human history effect electric expect
  crop modern element hit student corner party supply bone rail imagine provide agree thus
  capital chair danger fruit rich thick soldier process operate guess necessary sharp wing
  create neighbor wash bat rather crowd corn compare poem string bell depend meat rub tube famous
  dollar stream fear sight thin triangle planet hurry chief colony clock mine tie enter major
  fresh search send yellow gun allow print dead spot desert suit current lift rose arrive master
  track parent shore division sheet substance favor connect post spend chord fat glad original
  share station dad bread charge proper bar offer segment slave duck instant market degree
  populate chick dear enemy reply drink occur support speech nature range steam motion path
  liquid log meant quotient teeth shell neck oxygen sugar death pretty skill women season
  solution magnet silver thank branch match suffix especially fig afraid huge sister steel
  discuss forward similar guide experience score apple bought led pitch coat mass card band rope
  slip win dream evening condition feed tool total basic smell valley nor double seat continue
  block chart hat sell success company subtract event particular deal swim term opposite wife
  shoe shoulder spread arrange camp invent cotton born determine quart nine truck noise level
  chance gather shop stretch throw shine property column molecule select wrong gray repeat
  require broad prepare salt nose plural anger claim continent
  computer network data model text vector search query document language machine learning
  neural memory server client peer node job task shard worker result input output file
  message protocol token image video audio cloud storage compute price market payment account
  software hardware program code test build release version update error report value
  information service system internet online digital user website page email phone mobile
  research university government business health medical patient policy security privacy
  development management education technology application performance quality analysis
  million billion percent weather ocean coffee tea breakfast dinner lunch kitchen restaurant
  quickly slowly really actually probably finally usually recently simply clearly
  brown fox jumps lazy dogs cats jumped running walked talking made says going doing
  hello hi goodbye thanks sorry okay today tomorrow yesterday weekend january february march
  april june july august september october november december monday tuesday wednesday
  thursday friday saturday sunday zero eleven twelve fifteen thirty forty fifty hundred
  because although however therefore without within across along around behind below beside
  beyond inside outside since upon whose whom everything something anything nobody everyone
  someone anyone himself herself itself myself yourself themselves ourselves
`

function pieces (list: string): string[] {
  return list.split(/\s+/).filter(word => word !== '')
}

function buildVocab (): string[] {
  const entries: string[] = [PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN]
  const singles = [...LETTERS, ...DIGITS, ...PUNCTUATION]
  entries.push(...singles, ...singles.map(char => `##${char}`))
  for (const a of LETTERS) {
    for (const b of LETTERS) {
      entries.push(`##${a}${b}`)
    }
  }
  entries.push(...pieces(SUFFIXES).map(suffix => `##${suffix}`))
  // words are split on punctuation before WordPiece, so a word with an apostrophe never matches
  entries.push(...pieces(WORDS).filter(word => /^[a-z0-9]+$/.test(word)))
  return [...new Set(entries)]
}

let vocab: string[] | undefined

/** The vocabulary: token strings indexed by id. */
export function embedVocab (): readonly string[] {
  vocab ??= buildVocab()
  return vocab
}
