// NonRetriableError: thrown by a triggered handler to skip the remaining retries and dead-letter
// the event at once. A lazy guest module, like every global the plain path does not need.
import type { GuestBinding } from "../channel.js";

export const eventsBinding: GuestBinding = {
  name: "events",
  errorName: "Error",
  lazy: {
    events: {
      globals: ["NonRetriableError"],
      source: `(function () {
  "use strict";
  class NonRetriableError extends Error {
    constructor(message) {
      super(message);
      this.name = "NonRetriableError";
    }
  }
  return { NonRetriableError: NonRetriableError };
})`,
    },
  },
};
