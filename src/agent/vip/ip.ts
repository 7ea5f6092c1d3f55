// Reading addresses with `ip -j addr show`: src/host, shared with the installer.
export { canonicalIp, findAddr, interfaceForVip, listAddrs, parseIpAddrJson, type IpAddrInfo, type IpLink, type Runner } from "../../host/index.ts";
