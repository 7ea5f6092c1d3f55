/**
 * A kubeconfig for a client of the fake API: plain http(s) without
 * verification, and the bearer token that names the client (faults and
 * stats are kept per token).
 */
export function fakeApiKubeconfig(server: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: ${token}}}]
contexts: [{name: c, context: {cluster: fake, user: u}}]
current-context: c
`;
}
