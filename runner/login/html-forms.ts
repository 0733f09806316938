// A small HTML form reader for the `form` login driver: finds <form> elements and their
// controls (input, select, textarea, button) well enough for ordinary login and consent pages.
// It is not a full HTML parser (WHATWG HTML §13.2): it skips comments, <script> and <style>,
// reads attributes in all three quoting styles, decodes character references, and builds the
// "form data set" the way a browser would for a urlencoded submission (HTML §4.10.21.4).

export interface HtmlControl {
  tag: 'input' | 'select' | 'textarea' | 'button';
  type: string;
  name: string;
  value: string;
  checked: boolean;
  disabled: boolean;
  /** Visible text (button content, textarea content). */
  text: string;
  /** For a select: its options. */
  options?: { value: string; selected: boolean }[];
}

export interface HtmlForm {
  index: number;
  action: string;
  method: 'GET' | 'POST';
  enctype: string;
  controls: HtmlControl[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X'
          ? Number.parseInt(ref.slice(2), 16)
          : Number.parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function parseAttributes(source: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of source.matchAll(re)) {
    const name = m[1]!.toLowerCase();
    if (!attrs.has(name)) attrs.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

/** Removes what never holds controls and could confuse the scan: comments, scripts, styles. */
function stripInert(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<script\b[\s\S]*?<\/script\s*>/gi, '')
    .replace(/<style\b[\s\S]*?<\/style\s*>/gi, '');
}

export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  const source = stripInert(html);
  const formRe = /<form\b([^>]*)>([\s\S]*?)(?:<\/form\s*>|$)/gi;
  for (const m of source.matchAll(formRe)) {
    const attrs = parseAttributes(m[1]!);
    const method = (attrs.get('method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
    forms.push({
      index: forms.length,
      action: attrs.get('action') ?? '',
      method,
      enctype: (attrs.get('enctype') ?? 'application/x-www-form-urlencoded').toLowerCase(),
      controls: parseControls(m[2]!),
    });
  }
  return forms;
}

function parseControls(body: string): HtmlControl[] {
  const controls: HtmlControl[] = [];
  const re =
    /<input\b([^>]*)>|<select\b([^>]*)>([\s\S]*?)<\/select\s*>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea\s*>|<button\b([^>]*)>([\s\S]*?)<\/button\s*>/gi;
  for (const m of body.matchAll(re)) {
    if (m[1] !== undefined) {
      const a = parseAttributes(m[1]);
      const type = (a.get('type') ?? 'text').toLowerCase();
      controls.push({
        tag: 'input',
        type,
        name: a.get('name') ?? '',
        value: a.get('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''),
        checked: a.has('checked'),
        disabled: a.has('disabled'),
        text: '',
      });
    } else if (m[2] !== undefined) {
      const a = parseAttributes(m[2]);
      const options = [...m[3]!.matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => {
        const oa = parseAttributes(o[1]!);
        return { value: oa.get('value') ?? decodeEntities(o[2]!).trim(), selected: oa.has('selected') };
      });
      const chosen = options.find((o) => o.selected) ?? options[0];
      controls.push({
        tag: 'select',
        type: 'select',
        name: a.get('name') ?? '',
        value: chosen?.value ?? '',
        checked: false,
        disabled: a.has('disabled'),
        text: '',
        options,
      });
    } else if (m[4] !== undefined) {
      const a = parseAttributes(m[4]);
      const text = decodeEntities(m[5]!).replace(/^\r?\n/, '');
      controls.push({
        tag: 'textarea',
        type: 'textarea',
        name: a.get('name') ?? '',
        value: text,
        checked: false,
        disabled: a.has('disabled'),
        text,
      });
    } else {
      const a = parseAttributes(m[6]!);
      controls.push({
        tag: 'button',
        type: (a.get('type') ?? 'submit').toLowerCase(),
        name: a.get('name') ?? '',
        value: a.get('value') ?? '',
        checked: false,
        disabled: a.has('disabled'),
        text: decodeEntities(m[7]!.replace(/<[^>]*>/g, '')).trim(),
      });
    }
  }
  return controls;
}

export function isSubmitButton(c: HtmlControl): boolean {
  return (
    (c.tag === 'button' && c.type === 'submit') ||
    (c.tag === 'input' && (c.type === 'submit' || c.type === 'image'))
  );
}

/**
 * The name/value pairs a browser submits (HTML §4.10.21.4 "constructing the entry list"): enabled
 * named controls; checkboxes and radios only when checked; only the submit button pressed.
 */
export function formEntries(form: HtmlForm, pressed?: HtmlControl): [string, string][] {
  const entries: [string, string][] = [];
  for (const c of form.controls) {
    if (c.disabled || c.name === '') continue;
    if (isSubmitButton(c) || c.tag === 'button') {
      if (c === pressed) entries.push([c.name, c.value]);
      continue;
    }
    if (c.tag === 'input' && ['reset', 'file'].includes(c.type)) continue;
    if (c.tag === 'input' && (c.type === 'checkbox' || c.type === 'radio') && !c.checked) continue;
    entries.push([c.name, c.value]);
  }
  return entries;
}
