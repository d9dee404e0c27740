/** Shape and defaults of the `embed` workload's model (MiniLM-L6-shaped BERT). */

/** workload id */
export const EMBED_ID = 'embed'

/** workload version: bump it whenever the vocabulary, the tokenizer or the model builder changes */
export const EMBED_VERSION = '1.0.0'

/** the default weight seed */
export const EMBED_SEED = 0x5eed_0001

/** encoder layers */
export const NUM_LAYERS = 6

/** hidden size, also the output dimension */
export const HIDDEN_SIZE = 384

/** attention heads */
export const NUM_HEADS = 12

/** size of one attention head */
export const HEAD_SIZE = HIDDEN_SIZE / NUM_HEADS

/** feed-forward inner size */
export const INTERMEDIATE_SIZE = 1536

/** tokens per sequence, `[CLS]` and `[SEP]` included; longer texts are truncated */
export const MAX_SEQUENCE_LENGTH = 128

/** token types (BERT segment A/B) */
export const TYPE_VOCAB_SIZE = 2

/** standard deviation of the initial weights (BERT's `initializer_range`) */
export const INIT_STD = 0.02

/** LayerNorm epsilon (BERT's `layer_norm_eps`) */
export const LAYER_NORM_EPS = 1e-12

/** words longer than this many characters become `[UNK]` */
export const MAX_WORD_CHARS = 100

/** largest accepted input item, in bytes of UTF-8 */
export const MAX_INPUT_BYTES = 16 * 1024

/** bytes of one encoded output vector: `HIDDEN_SIZE` little-endian float32 */
export const OUTPUT_BYTES = HIDDEN_SIZE * 4

/** largest element-wise difference `compare()` accepts between two vectors */
export const TOLERANCE = 1e-5

/** revision of the model builder and vocabulary, part of the cached file name: bump it on any change */
export const MODEL_REVISION = 1

/** dimension of an output vector */
export const EMBED_DIMENSIONS = HIDDEN_SIZE

/** tokens per sequence, `[CLS]` and `[SEP]` included */
export const EMBED_MAX_TOKENS = MAX_SEQUENCE_LENGTH
