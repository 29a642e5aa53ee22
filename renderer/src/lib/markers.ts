// Where a deploy error belongs in the editor.
export interface EditorMarker {
  readonly startLineNumber: number;
  readonly startColumn: number;
  readonly endLineNumber: number;
  readonly endColumn: number;
  readonly message: string;
}

export function markerForError(error: { message: string; details?: Record<string, unknown> }, source: string): EditorMarker | undefined {
  const line = Number(error.details?.line);
  if (!Number.isInteger(line) || line < 1) return undefined;
  const lines = source.split("\n");
  const text = lines[Math.min(line, lines.length) - 1] ?? "";
  const column = Number.isInteger(Number(error.details?.column)) ? Math.max(1, Number(error.details?.column)) : 1;
  return {
    startLineNumber: line,
    startColumn: column,
    endLineNumber: line,
    endColumn: Math.max(column + 1, text.length + 1),
    message: error.message,
  };
}
