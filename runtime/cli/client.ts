// A small admin API client for the CLI: bearer token, JSON in and out, coded errors as exceptions.
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

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers: {
          ...(this.options.token && { authorization: `Bearer ${this.options.token}` }),
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(
        0,
        "UNREACHABLE",
        `Cannot reach PiCloud at ${this.baseUrl} (${reason}). Is 'picloud serve' running? Set --url or PICLOUD_URL.`,
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(response.status, "BAD_RESPONSE", `Unexpected response from ${this.baseUrl} (HTTP ${response.status}).`);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? "HTTP_ERROR", error?.message ?? `HTTP ${response.status}`);
    }
    return parsed as T;
  }
}
