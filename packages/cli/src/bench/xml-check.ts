/**
 * A small well-formedness check of an XML document (the SVG charts this package writes): one
 * root element, tags that nest and close, quoted and unique attributes, only the predefined
 * or numeric entities, no markup characters in text. Not a validating parser: no DTDs, no
 * namespaces checked. Input over `MAX_XML_CHARS` is refused.
 */

/** A document that is not well-formed XML; `offset` is where the check stopped. */
export class MalformedXmlError extends Error {
  static readonly code = 'ERR_MALFORMED_XML'
  readonly code = MalformedXmlError.code

  constructor (message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`)
    this.name = 'MalformedXmlError'
  }
}

/** The largest document checked (characters). */
export const MAX_XML_CHARS = 16 * 1024 * 1024

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/
const ATTRIBUTE = /^\s+([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*("[^"<]*"|'[^'<]*')/

function checkText (text: string, offset: number): void {
  if (text.includes('>') && text.includes(']]>')) {
    throw new MalformedXmlError('"]]>" in text', offset)
  }
  const amp = /&([^;\s]*);?/g
  let m
  while ((m = amp.exec(text)) != null) {
    if (!m[0].endsWith(';') || !/^(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+)$/.test(m[1])) {
      throw new MalformedXmlError(`bad entity "${m[0]}"`, offset + m.index)
    }
  }
}

/**
 * Throws a `MalformedXmlError` unless `xml` is a well-formed XML document; returns the root
 * element's name.
 */
export function checkWellFormedXml (xml: string): string {
  if (xml.length > MAX_XML_CHARS) {
    throw new MalformedXmlError(`document longer than ${MAX_XML_CHARS} characters`, 0)
  }
  const stack: string[] = []
  let root: string | undefined
  let closedRoot = false
  let i = 0
  while (i < xml.length) {
    const lt = xml.indexOf('<', i)
    const text = xml.slice(i, lt === -1 ? xml.length : lt)
    if (text.trim() !== '' && stack.length === 0) {
      throw new MalformedXmlError('text outside the root element', i)
    }
    checkText(text, i)
    if (lt === -1) {
      break
    }
    i = lt
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i)
      if (end === -1 || root != null) {
        throw new MalformedXmlError('bad processing instruction', i)
      }
      i = end + 2
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4)
      if (end === -1) {
        throw new MalformedXmlError('unclosed comment', i)
      }
      i = end + 3
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i)
      if (end === -1 || stack.length === 0) {
        throw new MalformedXmlError('bad CDATA section', i)
      }
      i = end + 3
    } else if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0]
      const end = xml.indexOf('>', i)
      if (name == null || end === -1 || xml.slice(i + 2 + name.length, end).trim() !== '') {
        throw new MalformedXmlError('bad end tag', i)
      }
      if (stack.pop() !== name) {
        throw new MalformedXmlError(`end tag </${name}> does not match its start tag`, i)
      }
      if (stack.length === 0) {
        closedRoot = true
      }
      i = end + 1
    } else {
      const name = NAME.exec(xml.slice(i + 1))?.[0]
      if (name == null) {
        throw new MalformedXmlError('bad start tag', i)
      }
      if (closedRoot || (root != null && stack.length === 0)) {
        throw new MalformedXmlError('a second root element', i)
      }
      root ??= name
      let rest = xml.slice(i + 1 + name.length)
      let consumed = i + 1 + name.length
      const seen = new Set<string>()
      let m
      while ((m = ATTRIBUTE.exec(rest)) != null) {
        if (seen.has(m[1])) {
          throw new MalformedXmlError(`attribute ${m[1]} twice`, consumed)
        }
        seen.add(m[1])
        checkText(m[2].slice(1, -1), consumed)
        rest = rest.slice(m[0].length)
        consumed += m[0].length
      }
      const close = /^\s*(\/?)>/.exec(rest)
      if (close == null) {
        throw new MalformedXmlError(`bad attribute or unclosed tag <${name}>`, consumed)
      }
      if (close[1] !== '/') {
        stack.push(name)
      } else if (stack.length === 0) {
        closedRoot = true
      }
      i = consumed + close[0].length
    }
  }
  if (root == null) {
    throw new MalformedXmlError('no root element', 0)
  }
  if (stack.length > 0) {
    throw new MalformedXmlError(`unclosed element <${stack[stack.length - 1]}>`, xml.length)
  }
  return root
}
