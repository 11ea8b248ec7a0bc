// The JSON client both apps use for their server's API (same origin, under /api): the session
// token kept in localStorage under the app's own key, errors as `ApiError` with the server's
// stable code, and a 401 that ends the session reported once to the shell.

/** One bad line of an uploaded file, as the server names it (1-based). */
export interface ErrorLine {
  line: number;
  message: string;
}

/** An error answered by the API (or a network failure, code "network"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For an uploaded file: every line the server refused. */
    readonly lines: readonly ErrorLine[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A request body: JSON, or text sent as it is (an uploaded CSV file). */
export type RequestBody = { json: unknown } | { text: string; contentType: string };

export interface HttpClient {
  storedToken: () => string | null;
  storeToken: (token: string | null) => void;
  /** Called when the server no longer knows the session (HTTP 401, but not a wrong credential). */
  setUnauthenticatedHandler: (handler: () => void) => void;
  request: <T>(method: string, path: string, body?: RequestBody) => Promise<T>;
  get: <T>(path: string) => Promise<T>;
  post: <T>(path: string, json?: unknown) => Promise<T>;
  put: <T>(path: string, json: unknown) => Promise<T>;
}

export interface HttpClientOptions {
  /** The localStorage key of the session token. */
  tokenKey: string;
  /** 401 codes that refuse a credential (a wrong password or PIN) without ending the session. */
  credentialCodes: readonly string[];
  /**
   * Marks a request made this long after the user's last touch or key as the page refreshing
   * itself (`x-background: 1`), for a server that does not count that as use, so that an
   * unattended screen's session still ends when idle.
   */
  backgroundAfterMs?: number;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { tokenKey, credentialCodes, backgroundAfterMs } = options;
  let onUnauthenticated: () => void = () => undefined;

  let lastUserInputAt = Date.now();
  if (backgroundAfterMs !== undefined) {
    for (const type of ["pointerdown", "keydown"]) {
      window.addEventListener(
        type,
        () => {
          lastUserInputAt = Date.now();
        },
        { capture: true, passive: true },
      );
    }
  }

  const storedToken = () => localStorage.getItem(tokenKey);
  const storeToken = (token: string | null) => {
    if (token === null) localStorage.removeItem(tokenKey);
    else localStorage.setItem(tokenKey, token);
  };

  const request = async <T>(method: string, path: string, body?: RequestBody): Promise<T> => {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = storedToken();
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (backgroundAfterMs !== undefined && Date.now() - lastUserInputAt > backgroundAfterMs) {
      headers["x-background"] = "1";
    }
    let payload: string | null = null;
    if (body !== undefined && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body !== undefined) {
      headers["content-type"] = body.contentType;
      payload = body.text;
    }
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch (error) {
      throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
    }
    const text = await response.text();
    let json: unknown = null;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string; lines?: ErrorLine[] } } | null)?.error;
      const code = error?.code ?? `http_${response.status}`;
      const fallback = `HTTP ${response.status} ${response.statusText}`.trim();
      const apiError = new ApiError(response.status, code, error?.message ?? fallback, error?.lines ?? []);
      if (response.status === 401 && !credentialCodes.includes(code)) onUnauthenticated();
      throw apiError;
    }
    return json as T;
  };

  return {
    storedToken,
    storeToken,
    setUnauthenticatedHandler: (handler) => {
      onUnauthenticated = handler;
    },
    request,
    get: (path) => request("GET", path),
    post: (path, json = {}) => request("POST", path, { json }),
    put: (path, json) => request("PUT", path, { json }),
  };
}

/** A query string of the parameters that are set (`?a=1&b=x`), or "" when none is. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

export const seg = encodeURIComponent;
