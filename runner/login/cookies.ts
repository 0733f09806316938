// A minimal cookie jar for the `form` login driver (RFC 6265 §5.3, simplified for login pages):
// host-only cookies keyed by host, path and name; Path prefix matching; Max-Age/Expires in the
// past delete; Secure cookies only over https. Domain attributes are treated as host-only, which
// is stricter than a browser (a cookie never travels to a sibling host).

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  secure: boolean;
}

export class CookieJar {
  private readonly cookies: Cookie[] = [];

  /** Stores the cookies of every `Set-Cookie` line of a response from `url`. */
  store(url: URL, setCookieLines: readonly string[], onValue?: (value: string) => void): void {
    for (const line of setCookieLines) {
      const [pair, ...attrParts] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attrs = new Map(
        attrParts.map((a) => {
          const i = a.indexOf('=');
          return i === -1
            ? [a.trim().toLowerCase(), '']
            : [a.slice(0, i).trim().toLowerCase(), a.slice(i + 1).trim()];
        }),
      );
      const path = attrs.get('path')?.startsWith('/') ? attrs.get('path')! : defaultPath(url);
      const expired =
        (attrs.has('max-age') && Number(attrs.get('max-age')) <= 0) ||
        (attrs.has('expires') && Date.parse(attrs.get('expires')!) < Date.now());
      const i = this.cookies.findIndex((c) => c.host === url.host && c.path === path && c.name === name);
      if (i !== -1) this.cookies.splice(i, 1);
      if (expired) continue;
      if (value !== '') onValue?.(value);
      this.cookies.push({ name, value, host: url.host, path, secure: attrs.has('secure') });
    }
  }

  /** The `Cookie` header value for a request to `url`, or undefined when no cookie applies. */
  header(url: URL): string | undefined {
    const matching = this.cookies.filter(
      (c) =>
        c.host === url.host &&
        (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) &&
        (!c.secure || url.protocol === 'https:'),
    );
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
}

/** RFC 6265 §5.1.4 default-path. */
function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}
