// A small admin API client for the CLI: bearer token, JSON in and out, coded errors as exceptions.

/** A problem on this side (a missing file, a bad flag): said plainly, without a server error code. */
export class CliError extends Error {}
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  readonly url: string;
  readonly token: string | undefined;
}

export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.url.replace(/\/+$/, "");
  }

  /** Follows a Server-Sent Events stream until it ends, calling `onMessage` per message. */
  async stream(path: string, onMessage: (type: string, data: unknown) => void): Promise<void> {
    const response = await this.fetch(`${this.baseUrl}/api/v1${path}`, { headers: this.authHeaders() });
    if (!response.ok || !response.body) await this.fail(response);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) onMessage(type, JSON.parse(data));
        end = buffer.indexOf("\n\n");
      }
    }
  }

  private authHeaders(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(
        0,
        "UNREACHABLE",
        `Cannot reach PiCloud at ${this.baseUrl} (${reason}). Is 'picloud serve' running? Set --url or PICLOUD_URL.`,
      );
    }
  }

  private async fail(response: Response): Promise<never> {
    const text = await response.text();
    let error: { code?: string; message?: string } | undefined;
    try {
      error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    } catch {
      throw new ApiError(response.status, "BAD_RESPONSE", `Unexpected response from ${this.baseUrl} (HTTP ${response.status}).`);
    }
    const code = error?.code ?? "HTTP_ERROR";
    throw new ApiError(response.status, code, this.clientSideMessage(code) ?? error?.message ?? `HTTP ${response.status}`);
  }

  /** Auth failures said in terms of what a CLI user can change (flags and variables, not headers). */
  private clientSideMessage(code: string): string | undefined {
    if (code === "AUTH_REQUIRED" && !this.options.token)
      return "No admin token given: set --token or PICLOUD_TOKEN ('picloud serve' prints one on first start).";
    if (code === "AUTH_INVALID") return `${this.baseUrl} rejected the admin token: check --token or PICLOUD_TOKEN.`;
    return undefined;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { ...this.authHeaders(), ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) await this.fail(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new ApiError(response.status, "BAD_RESPONSE", `Unexpected response from ${this.baseUrl} (HTTP ${response.status}).`);
    }
  }
}
