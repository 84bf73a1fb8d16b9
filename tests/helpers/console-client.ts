// The console as a browser uses it, without a browser: a cookie jar, form posts from an origin.
export function consoleClient(url: string) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [k, v] = pair!.split('=') as [string, string];
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(k); else jar.set(k, v);
    }
    return res;
  };
  return {
    jar,
    get: async (path: string) => keep(await fetch(url + path, { headers: { cookie: cookieHeader() }, redirect: 'manual' })),
    post: async (path: string, form: Record<string, string>, origin: string | null = new URL(url).origin) => keep(await fetch(url + path, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
      headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...(origin === null ? {} : { origin }) },
    })),
  };
}

/** The CSRF token a console page's forms carry. */
export const csrfOf = async (res: Response) => /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1] ?? '';
