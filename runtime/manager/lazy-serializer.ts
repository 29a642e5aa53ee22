// Response serializers (fast-json-stringify, from each route's response schema) compiled on the
// first answer of their route and status, not at start: compiling every admin API operation's was
// a sixth of a start, and most are never used in a process's life. Same compiler, same output.
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";

type SerializerFactory = ReturnType<typeof SerializerSelector>;

const eager = SerializerSelector();

/** fastify's `schemaController.compilersFactory.buildSerializer`, deferring each compilation to first use. */
export const lazySerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = eager(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc) => {
      serialize ??= compile(route);
      return serialize(doc);
    };
  };
};
