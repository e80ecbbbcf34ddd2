/**
 * A service's /metrics as text, for the bench's readings of it (batches, the event loop, answers
 * by status, in-flight requests). Every scrape also starts prom-client's event-loop delay afresh
 * (bench/eventLoop.ts).
 */
export async function metricsText(baseUrl: string): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`)).text();
}
