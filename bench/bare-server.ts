// The stack's ceiling: a bare fastify route answering the same JSON as the hello script.
import Fastify from "fastify";

const app = Fastify();
app.get("/hello", async () => ({ message: "Hello, world!" }));
// The query-string hello (bench/run.ts GREET): the greeting names `?name=`.
app.get<{ Querystring: { name?: string } }>("/greet", async (request) => ({ message: `Hello, ${request.query.name}!` }));
const port = Number(process.argv[2] ?? 0);
await app.listen({ host: "127.0.0.1", port });
const address = app.server.address();
process.stdout.write(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : port}\n`);
