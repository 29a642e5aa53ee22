// Schemas shared by several admin routes.
import { Type } from "typebox";

export const AppParams = Type.Object({ app: Type.String() });
export const ScriptParams = Type.Object({ app: Type.String(), name: Type.String() });
export const VersionParams = Type.Object({ app: Type.String(), name: Type.String(), version: Type.Integer({ minimum: 1 }) });

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }),
});

export const LogLineSchema = Type.Object({
  level: Type.String(),
  message: Type.String(),
  at: Type.Number(),
});

export const InvocationErrorSchema = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    line: Type.Optional(Type.Integer()),
    column: Type.Optional(Type.Integer()),
    stack: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
