// Reads a secret value for `picloud secrets set`: from stdin when it is piped (one trailing newline
// dropped), or from a prompt that does not echo on a terminal. Never from argv, where other users
// could read it in the process list and it would land in the shell history.
import { createInterface } from "node:readline";
import { Writable } from "node:stream";

export async function readSecretValue(name: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  process.stderr.write(`Value for ${name} (input hidden): `);
  // Typed characters go to a sink, not to the terminal.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
