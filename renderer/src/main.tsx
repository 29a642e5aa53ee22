import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { retryUnlessClientError } from "./api/retry";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: retryUnlessClientError, refetchOnWindowFocus: false, staleTime: 2_000 } },
});

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
