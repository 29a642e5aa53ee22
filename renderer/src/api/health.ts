// The active runtime's state as the header shows it: up, down, or up but refusing our token.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { ApiError } from "./client";
import { type Api, healthQuery, keys } from "./queries";

export type Health = { state: "checking" } | { state: "up" } | { state: "down"; error: unknown } | { state: "rejected"; error: unknown };

export function isAuthError(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.code.startsWith("AUTH_"));
}

export function useHealth(api: Api): Health {
  const queryClient = useQueryClient();
  const health = useQuery({
    ...healthQuery(api),
    // While down, look again every few seconds so recovery shows without a reload.
    refetchInterval: (query) => (query.state.status === "error" ? 3_000 : 30_000),
  });
  const wasFailing = useRef(false);
  useEffect(() => {
    if (health.isError) wasFailing.current = true;
    else if (health.isSuccess && wasFailing.current) {
      wasFailing.current = false;
      // Everything that failed while the runtime was away is fetched again.
      void queryClient.invalidateQueries({ queryKey: keys.all(api), predicate: (q) => q.queryKey[1] !== "health" });
    }
  }, [health.isError, health.isSuccess, queryClient, api]);
  if (health.isError)
    return isAuthError(health.error) ? { state: "rejected", error: health.error } : { state: "down", error: health.error };
  return health.isSuccess ? { state: "up" } : { state: "checking" };
}
