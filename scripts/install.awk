# k3vip install.sh's engine: resolves and validates the options exactly as
# src/config does, builds the flat view of src/render/view.ts and renders the
# manifest template with the flat mustache subset the templates keep to.
# Embedded into install.sh by `npm run gen`; POSIX awk only (runs under
# gawk, mawk and busybox awk with LC_ALL=C): no gensub/strtonum, no {n,m}.
#
# op=check   resolve + validate; print distro=, vip=, interface=, mode=, image=,
#            heartbeatPort=, heartbeatKeyGiven= lines.
# op=key     resolve + validate; print the heartbeat key given (a secret: into a variable only).
# op=keycheck exit 0 when ENVIRON["__K3VIP_HB_KEY"] is a valid heartbeat key, else 2.
# op=render  resolve + validate; render the template given as input file.
# op=detect  input: `ip -o addr show`; print the interface whose subnet
#            holds ENVIRON["__K3VIP_VIP"], or exit 3.
# op=owncheck input: `ip -o addr show`; when ENVIRON["__K3VIP_VIP"] is one of
#            the node's own addresses (a subnet prefix), print the refusal
#            src/host/addresses.ts gives and exit 2.
# op=ipcheck self-check for tests: input lines "address<TAB>prefix"; prints
#            "family|range|text|network-or-broadcast problem" per line.
# op=optcheck self-check for tests: input lines "option-number<TAB>raw";
#            prints "ok<TAB>formatted" or the usage message (source SRC).
# Usage errors print one line on stdout and exit 2.
# Option values come from ENVIRON: K3VIP_<NAME>, kube-vip installer aliases,
# and __K3VIP_FLAG_<flag> for command-line flags.

#@OPTIONS@

BEGIN {
	dead = 0
	init_chars()
	if (op == "ipcheck") {
		FS = "\t"
	} else if (op == "optcheck") {
		FS = "\t"
		options()
	} else if (op == "detect") {
		if (ip_parse(ENVIRON["__K3VIP_VIP"], VIPA) == 0) { dead = 1; exit 2 }
		best = -1; found = ""; conflict = ""
	} else if (op == "keycheck") {
		parse_hbkey("key", ENVIRON["__K3VIP_HB_KEY"])
		exit dead ? 2 : 0
	} else if (op == "owncheck") {
		if (ip_parse(ENVIRON["__K3VIP_VIP"], VIPA) == 0) { dead = 1; exit 2 }
	} else {
		options()
		for (i = 1; i <= N; i++) { resolve(i); if (dead) exit 2 }
		validate()
		if (dead) exit 2
		if (op == "check") {
			print "distro=" V["distro"]
			print "vip=" V["vip"]
			print "interface=" V["interface"]
			print "mode=" V["mode"]
			print "image=" V["image"]
			print "heartbeatPort=" V["heartbeatPort"]
			print "heartbeatKeyGiven=" (V["heartbeatKey"] != "" ? "true" : "false")
			exit 0
		}
		if (op == "key") { print V["heartbeatKey"]; exit 0 }
		if (V["interface"] == "" && ("__K3VIP_DETECTED_INTERFACE" in ENVIRON)) V["interface"] = ENVIRON["__K3VIP_DETECTED_INTERFACE"]
		# The key install.sh derived, kept or made (resolve_heartbeat_key), and its digest.
		if (V["heartbeatKey"] == "" && ("__K3VIP_HB_KEY" in ENVIRON)) V["heartbeatKey"] = ENVIRON["__K3VIP_HB_KEY"]
		build_view()
		depth = 0; skipping = 0
	}
}

op == "render" { render_line($0) }

op == "detect" { detect_line() }

op == "owncheck" { owncheck_line() }

op == "ipcheck" { ipcheck_line() }

op == "optcheck" { optcheck_line() }

END {
	if (dead) exit 2
	if (op == "render" && depth != 0) { print "template: unclosed section"; exit 1 }
	if (op == "detect") {
		if (found == "") exit 3
		if (conflict != "") { gsub(/ /, ", ", conflict); print found ", " conflict; exit 4 }
		print found
	}
}

# ---- errors ---------------------------------------------------------------

# `<source> "<value>" <problem>`: the one shape of a usage message.
function bad(src, raw, problem) {
	if (dead) return
	print src " " json(raw) " " problem
	dead = 1
}

function fail_line(msg) {
	if (dead) return
	print msg
	dead = 1
}

# ---- JSON strings (= mustache escape of src/render) ------------------------

function init_chars(   i, c) {
	for (i = 1; i < 32; i++) {
		c = sprintf("%c", i)
		CTRL[c] = sprintf("\\u%04x", i)
	}
	CTRL[sprintf("%c", 8)] = "\\b"
	CTRL["\t"] = "\\t"
	CTRL["\n"] = "\\n"
	CTRL[sprintf("%c", 12)] = "\\f"
	CTRL["\r"] = "\\r"
}

function json(s,   out, c, i, n) {
	out = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\"") out = out "\\\""
		else if (c == "\\") out = out "\\\\"
		else if (c in CTRL) out = out CTRL[c]
		else out = out c
	}
	return "\"" out "\""
}

# Lists allow ASCII spaces and tabs around their items (trimItem of src/config/values.ts).
function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# ODD_SPACE of src/config/values.ts, as UTF-8 bytes: \n \v \f \r, U+0085,
# U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF.
function odd_space(s) {
	return s ~ /[\n\013\f\r]/ || index(s, "\302\205") || index(s, "\302\240") || index(s, "\341\232\200") || s ~ /\342\200[\200-\212]/ || index(s, "\342\200\250") || index(s, "\342\200\251") || index(s, "\342\200\257") || index(s, "\342\201\237") || index(s, "\343\200\200") || index(s, "\357\273\277")
}

# CONTROL of src/config/values.ts: C0, DEL, C1 (U+0080-U+009F), U+FFFE, U+FFFF.
function control_char(s) {
	return s ~ /[\001-\037\177]/ || s ~ /\302[\200-\237]/ || index(s, "\357\277\276") || index(s, "\357\277\277")
}

# White space at either end of a field (\s of JavaScript, as odd_space plus space and tab).
function edge_space(s,   a, b) {
	if (s == "") return 0
	a = substr(s, 1, 1)
	b = substr(s, length(s), 1)
	if (a == " " || a == "\t" || b == " " || b == "\t") return 1
	return odd_space(s)
}

# "007" → "7": integers print as JS String(Number(raw)).
function int_str(s) {
	sub(/^0+/, "", s)
	return s == "" ? "0" : s
}

# ---- IP addresses -----------------------------------------------------------

function hexval(s,   i, n, v) {
	v = 0
	n = length(s)
	for (i = 1; i <= n; i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
	return v
}

# Strict dotted quad (ipaddr.js isValidFourPartDecimal): no leading zeros.
function v4_parse(s, A,   p, n, i) {
	if (s !~ /^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)$/) return 0
	n = split(s, p, ".")
	for (i = 1; i <= 4; i++) if (length(p[i]) > 3 || p[i] + 0 > 255) return 0
	A["family"] = 4
	A["n"] = ((p[1] * 256 + p[2]) * 256 + p[3]) * 256 + p[4]
	for (i = 1; i <= 4; i++) A[i] = p[i] + 0
	return 4
}

# The dotted quad inside an IPv6 literal: ipaddr.js is lax there (leading
# zeros, 0x hex parts), parseInt per part, each 0..255.
function v4_embedded(s, d,   p, n, i) {
	n = split(s, p, ".")
	if (n != 4) return 0
	for (i = 1; i <= 4; i++) {
		if (p[i] ~ /^[0-9]+$/) d[i] = p[i] + 0
		else if (p[i] ~ /^0[xX][0-9A-Fa-f]+$/) d[i] = hexval(substr(p[i], 3))
		else return 0
		if (d[i] > 255) return 0
	}
	return 1
}

# IPv6 literal without zone; fills A[1..8] with the hextets.
function v6_parse(s, A,   head, tail, hn, tn, H, T, i, k, v4, d, total, dbl) {
	if (index(s, ":") == 0 || s !~ /^[0-9A-Fa-fXx:.]+$/) return 0
	# ipaddr.js reads the deprecated "::a.b.c.d" as ::ffff:a.b.c.d.
	if (s ~ /^::[^:]*[.][^:]*$/) s = "::ffff:" substr(s, 3)
	v4 = 0
	if (index(s, ".") > 0) {
		i = s
		sub(/.*:/, "", i)
		if (v4_embedded(i, d) == 0) return 0
		s = substr(s, 1, length(s) - length(i)) "0:0"
		v4 = 1
	}
	dbl = index(s, "::")
	if (dbl > 0) {
		if (index(substr(s, dbl + 2), "::") > 0) return 0
		head = substr(s, 1, dbl - 1)
		tail = substr(s, dbl + 2)
	} else {
		head = s
		tail = ""
	}
	hn = head == "" ? 0 : split(head, H, ":")
	tn = tail == "" ? 0 : split(tail, T, ":")
	for (i = 1; i <= hn; i++) if (H[i] !~ /^[0-9A-Fa-f]+$/ || length(H[i]) > 4) return 0
	for (i = 1; i <= tn; i++) if (T[i] !~ /^[0-9A-Fa-f]+$/ || length(T[i]) > 4) return 0
	total = hn + tn
	if (dbl > 0 && total > 7) return 0
	if (dbl == 0 && total != 8) return 0
	k = 0
	for (i = 1; i <= hn; i++) A[++k] = hexval(H[i])
	for (i = 1; i <= 8 - total; i++) A[++k] = 0
	for (i = 1; i <= tn; i++) A[++k] = hexval(T[i])
	if (v4) {
		A[7] = d[1] * 256 + d[2]
		A[8] = d[3] * 256 + d[4]
	}
	A["family"] = 6
	return 6
}

# parseIp of src/config/values.ts: 4, 6, or 0 with PROBLEM set.
function ip_parse(s, A) {
	split("", A)
	if (index(s, "/") > 0) { PROBLEM = "is a CIDR; give one address without a prefix (example: 192.168.0.10)"; return 0 }
	if (v4_parse(s, A)) return 4
	if (index(s, "%") == 0 && v6_parse(s, A)) return 6
	PROBLEM = "is not an IPv4 or IPv6 address (example: 192.168.0.10)"
	return 0
}

# The ipaddr.js range names src/config refuses for a VIP ("" = fine).
function not_unicast(A,   i, zero5) {
	if (A["family"] == 4) {
		if (A[1] == 0) return "the unspecified address"
		if (A["n"] == 4294967295) return "the broadcast address"
		if (A[1] >= 224 && A[1] <= 239) return "a multicast address"
		if (A[1] == 169 && A[2] == 254) return "a link-local address"
		if (A[1] == 127) return "a loopback address"
		return ""
	}
	zero5 = 1
	for (i = 1; i <= 5; i++) if (A[i] != 0) zero5 = 0
	if (zero5 && A[6] == 0 && A[7] == 0 && A[8] == 0) return "the unspecified address"
	if (A[1] >= 65152 && A[1] <= 65215) return "a link-local address"
	if (A[1] >= 65280) return "a multicast address"
	if (zero5 && A[6] == 0 && A[7] == 0 && A[8] == 1) return "a loopback address"
	if (zero5 && A[6] == 65535) return "an IPv4-mapped IPv6 address (give the IPv4 address itself)"
	return ""
}

# 2^n without the ^ operator: busybox awk may be built without math support.
function pow2(n,   v) {
	v = 1
	while (n-- > 0) v *= 2
	return v
}

function v4_str(n,   a, b, c) {
	a = int(n / 16777216); n -= a * 16777216
	b = int(n / 65536); n -= b * 65536
	c = int(n / 256); n -= c * 256
	return a "." b "." c "." n
}

# RFC 5952 text, as ipaddr.js toString(): longest run (>= 2) of zero groups
# becomes "::", the leftmost on a tie.
function v6_str(A,   i, j, best, bestlen, out) {
	best = 0; bestlen = 1
	for (i = 1; i <= 8; i++) {
		if (A[i] != 0) continue
		for (j = i; j <= 8 && A[j] == 0; j++) ;
		if (j - i > bestlen) { best = i; bestlen = j - i }
		i = j
	}
	out = ""
	for (i = 1; i <= 8; i++) {
		if (best && i == best) { out = out "::"; i += bestlen - 1; continue }
		if (out != "" && out !~ /::$/) out = out ":"
		out = out sprintf("%x", A[i])
	}
	return out
}

# Is the address inside prefix/bits of the network N (same family)?
function in_subnet(A, N, bits,   i, full, r, m) {
	if (A["family"] != N["family"]) return 0
	if (A["family"] == 4) {
		m = pow2(32 - bits)
		return int(A["n"] / m) == int(N["n"] / m)
	}
	full = int(bits / 16)
	for (i = 1; i <= full; i++) if (A[i] != N[i]) return 0
	r = bits - full * 16
	if (r == 0) return 1
	m = pow2(16 - r)
	return int(A[full + 1] / m) == int(N[full + 1] / m)
}

# networkOrBroadcast of src/config/values.ts.
function network_or_broadcast(vip, prefix,   A, bits, m, net, i, full, r, host0) {
	ip_parse(vip, A)
	bits = A["family"] == 4 ? 32 : 128
	if (prefix <= 0 || prefix >= bits - 1) return ""
	if (A["family"] == 4) {
		m = pow2(32 - prefix)
		net = int(A["n"] / m) * m
		if (net == A["n"]) return "is the network address of " v4_str(net) "/" prefix "; pick a host address inside it"
		if (net + m - 1 == A["n"]) return "is the broadcast address of " v4_str(net) "/" prefix "; pick a host address inside it"
		return ""
	}
	full = int(prefix / 16)
	r = prefix - full * 16
	host0 = 1
	if (r > 0 && A[full + 1] % (pow2(16 - r)) != 0) host0 = 0
	for (i = full + (r > 0 ? 2 : 1); i <= 8; i++) if (A[i] != 0) host0 = 0
	if (host0) return "is the network address of " v6_str(A) "/" prefix "; pick a host address inside it"
	return ""
}

function ip_cmp(A, B,   i) {
	if (A["family"] == 4) return A["n"] < B["n"] ? -1 : (A["n"] > B["n"] ? 1 : 0)
	for (i = 1; i <= 8; i++) if (A[i] != B[i]) return A[i] < B[i] ? -1 : 1
	return 0
}

# ---- option parsers (src/config/values.ts) ----------------------------------
# parse_value returns the formatted value (what agentEnv gives); on bad
# input it reports through bad() and sets dead.

function parse_value(kind, src, raw,   k, n, v, i, vals, R) {
	n = split(kind, k, " ")
	if (k[1] == "vip") return parse_vip(src, raw)
	if (k[1] == "interface") {
		if (raw == "") return raw
		if (length(raw) > 15 || raw == "." || raw == ".." || raw !~ /^[A-Za-z0-9_.@-]+$/) bad(src, raw, "is not a valid Linux interface name (1-15 letters, digits, '.', '-', '_', '@'; example: eth0)")
		return raw
	}
	if (k[1] == "enum") {
		for (i = 2; i <= n; i++) if (raw == k[i]) return raw
		vals = k[2]
		for (i = 3; i <= n; i++) vals = vals ", " k[i]
		bad(src, raw, "is not one of: " vals)
		return raw
	}
	if (k[1] == "bool") {
		v = tolower(raw)
		if (v == "true" || v == "1" || v == "yes" || v == "on") return "true"
		if (v == "false" || v == "0" || v == "no" || v == "off" || v == "") return "false"
		bad(src, raw, "is not a boolean (true or false)")
		return raw
	}
	if (k[1] == "int") {
		if (raw !~ /^[0-9]+$/ || raw + 0 < k[2] + 0 || raw + 0 > k[3] + 0) bad(src, raw, "is not a whole number from " k[2] " to " k[3] " (example: " k[4] ")")
		return int_str(raw)
	}
	if (k[1] == "seconds") return parse_seconds(src, raw)
	if (k[1] == "dnslabel") {
		if (length(raw) > 63 || raw !~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) bad(src, raw, "is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63; example: kube-system)")
		return raw
	}
	if (k[1] == "dnssub") {
		if (length(raw) > 253 || raw !~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/) bad(src, raw, "is not a valid Kubernetes object name (lower-case letters, digits, '-' and '.'; example: k3vip-cp)")
		return raw
	}
	if (k[1] == "leaseref") {
		if (raw == "") return raw
		if (split(raw, R, "/") != 2 || length(R[1]) > 63 || R[1] !~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ || length(R[2]) > 253 || R[2] !~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/) bad(src, raw, "is not a Lease as namespace/name (example: kube-system/plndr-cp-lock; empty: none)")
		return raw
	}
	if (k[1] == "image") {
		if (!image_ok(raw)) bad(src, raw, "is not an image reference (example: ghcr.io/k3vip/k3vip:v0.1.0)")
		return raw
	}
	if (k[1] == "listen") return parse_listen(src, raw)
	if (k[1] == "routerid") {
		if (raw != "" && v4_parse(raw, R) == 0) bad(src, raw, "is not a BGP router ID: it must be written as an IPv4 address (example: 192.168.0.2)")
		return raw
	}
	if (k[1] == "peers") return parse_peers(src, raw)
	if (k[1] == "hbkey") return parse_hbkey(src, raw)
	if (k[1] == "pools") return parse_pools(src, raw)
	print "install.sh: no parser for option kind " kind
	dead = 1
	return raw
}

# parseHeartbeatKey: hex or base64 of at least 16 bytes; a secret, never echoed.
function parse_hbkey(src, raw,   b) {
	if (raw == "") return raw
	# Hex whenever it can be (as the agent decodes it): 30 hex digits are 15 bytes.
	if (raw ~ /^([0-9a-fA-F][0-9a-fA-F])+$/) {
		if (length(raw) >= 32) return raw
	} else if (raw ~ /^[A-Za-z0-9+\/]+(=|==)?$/ && (length(raw) % 4 == 0 || index(raw, "=") == 0)) {
		b = raw
		sub(/=+$/, "", b)
		if (int(length(b) * 3 / 4) >= 16) return raw
	}
	bad(src, "****", "is not a key of at least 16 bytes as hex or base64 (example: the output of head -c 32 /dev/urandom | base64; empty: the installer makes one)")
	return raw
}

function parse_vip(src, raw,   A, what) {
	if (ip_parse(raw, A) == 0) { bad(src, raw, PROBLEM); return raw }
	what = not_unicast(A)
	if (what != "") bad(src, raw, "is " what "; the VIP must be a unicast address on the servers' network (example: 192.168.0.10)")
	return raw
}

function parse_seconds(src, raw,   ip, fp, d) {
	if (raw !~ /^[0-9]+([.][0-9]|[.][0-9][0-9]|[.][0-9][0-9][0-9])?$/) { bad(src, raw, "is not a number of seconds (example: 5 or 0.5)"); return raw }
	if (raw + 0 < 0.1 || raw + 0 > 3600) { bad(src, raw, "is not a number of seconds from 0.1 to 3600"); return raw }
	d = index(raw, ".")
	ip = d ? substr(raw, 1, d - 1) : raw
	fp = d ? substr(raw, d + 1) : ""
	sub(/0+$/, "", fp)
	return int_str(ip) (fp == "" ? "" : "." fp)
}

# [registry[:port]/]path[:tag][@sha256:digest], as parseImage's regex.
function image_ok(s,   at, digest, c, tag) {
	at = index(s, "@")
	if (at > 0) {
		digest = substr(s, at + 1)
		if (digest !~ /^sha256:[a-f0-9]+$/ || length(digest) != 71) return 0
		s = substr(s, 1, at - 1)
	}
	tag = s
	if (sub(/.*:/, "", tag) && index(tag, "/") == 0) {
		if (tag !~ /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/ || length(tag) > 128) return 0
		s = substr(s, 1, length(s) - length(tag) - 1)
	}
	return s ~ /^([a-z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/
}

function parse_listen(src, raw,   c, host, port, A, i) {
	c = 0
	for (i = length(raw); i > 0; i--) if (substr(raw, i, 1) == ":") { c = i; break }
	host = c ? substr(raw, 1, c - 1) : ""
	port = c ? substr(raw, c + 1) : ""
	if (c == 0 || host !~ /^(\[[0-9a-fA-F:.]+\]|[0-9.]*)$/ || port !~ /^[0-9]+$/ || length(port) > 5 || port + 0 < 1 || port + 0 > 65535) {
		bad(src, raw, "is not a listen address (examples: :2112, 0.0.0.0:2112, [::1]:2112)")
		return raw
	}
	if (host != "") {
		if (substr(host, 1, 1) == "[") host = substr(host, 2, length(host) - 2)
		if (ip_parse(host, A) == 0) bad(src, raw, PROBLEM)
	}
	return raw
}

function peers_example() {
	return "(format address:as[:password[:multihop[:source]]], comma separated; example: 192.168.0.1:65000::false)"
}

# maskPeers of src/config/values.ts: each peer's password field (the third) as ****.
function mask_peers(raw,   items, n, i, out) {
	n = split(raw, items, ",")
	out = ""
	for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") mask_peer(items[i])
	return out
}

function mask_peer(item,   t, end, address, rest, f, nf, i, out) {
	t = item
	sub(/^[ \t]+/, "", t)
	if (substr(t, 1, 1) == "[") {
		end = index(item, "]")
		if (end == 0) return "****"
		address = substr(item, 1, end)
		rest = substr(item, end + 1)
		if (substr(rest, 1, 1) != ":") return rest == "" ? item : address "****"
		rest = substr(rest, 2)
	} else {
		i = index(item, ":")
		if (i == 0) return item
		address = substr(item, 1, i - 1)
		rest = substr(item, i + 1)
	}
	nf = split(rest, f, ":")
	if (nf >= 2 && f[2] != "") f[2] = "****"
	out = address ":" f[1]
	for (i = 2; i <= nf; i++) out = out ":" f[i]
	return out
}

function parse_peers(src, raw,   items, n, i, out, p, mraw) {
	if (trim(raw) == "") return ""
	mraw = mask_peers(raw)
	if (odd_space(raw)) { bad(src, mraw, "holds white space other than spaces or tabs around its commas (a line break, NBSP, \\v …): remove it"); return raw }
	n = split(raw, items, ",")
	out = ""
	for (i = 1; i <= n; i++) {
		p = parse_peer(src, mraw, trim(items[i]), items[i] ~ /[ \t]$/)
		if (dead) return raw
		out = out (i > 1 ? "," : "") p
	}
	return out
}

function parse_peer(src, raw, item, trailing,   e, address, rest, f, nf, asn, password, mh, source, i, A, multihop, out) {
	e = peers_example()
	if (substr(item, 1, 1) == "[") {
		i = index(item, "]")
		if (i == 0) { bad(src, raw, "has an unclosed '[' in peer " json(mask_peer(item)) " " e); return "" }
		address = substr(item, 2, i - 2)
		rest = substr(item, i + 1)
		if (rest != "" && substr(rest, 1, 1) != ":") { bad(src, raw, "has junk after ']' in peer " json(mask_peer(item)) " " e); return "" }
		rest = substr(rest, 2)
	} else {
		i = index(item, ":")
		address = i ? substr(item, 1, i - 1) : item
		rest = i ? substr(item, i + 1) : ""
	}
	if (ip_parse(address, A) == 0) { bad(src, raw, "has peer address " json(address) " that is not an IP address " e); return "" }
	nf = split(rest, f, ":")
	asn = nf >= 1 ? f[1] : ""
	password = nf >= 2 ? f[2] : ""
	mh = nf >= 3 ? f[3] : ""
	source = ""
	for (i = 4; i <= nf; i++) source = source (i > 4 ? ":" : "") f[i]
	if (source ~ /^\[.*\]$/) source = substr(source, 2, length(source) - 2)
	if (asn !~ /^[0-9]+$/ || asn + 0 < 1 || asn + 0 > 4294967295) { bad(src, raw, "has peer " json(address) " without a valid AS number (1-4294967295) " e); return "" }
	if (mh == "" || mh == "false") multihop = 0
	else if (mh == "true") multihop = 255
	else if (mh ~ /^[0-9]+$/ && mh + 0 >= 1 && mh + 0 <= 255) multihop = int_str(mh)
	else { bad(src, raw, "has peer " json(address) " with multihop " json(mh) ": use true, false or a TTL 1-255 " e); return "" }
	if (source != "" && ip_parse(source, A) == 0) { bad(src, raw, "has peer " json(address) " with source " json(source) " that is not an IP address " e); return "" }
	if (control_char(password)) { bad(src, raw, "has peer " json(address) " whose password holds a control character: use printable characters " e); return "" }
	if (edge_space(password) || (password != "" && nf <= 2 && trailing)) { bad(src, raw, "has peer " json(address) " whose password starts or ends with white space: k3vip does not guess whether it belongs to it; remove it " e); return "" }
	out = (index(address, ":") ? "[" address "]" : address) ":" int_str(asn) ":" password ":" (multihop == 0 ? "false" : multihop)
	if (source != "") out = out ":" (index(source, ":") ? "[" source "]" : source)
	return out
}

function parse_pools(src, raw,   items, n, i, p, ends, A, B, ex, fa, fb, out, slash, plen) {
	if (trim(raw) == "") return ""
	if (odd_space(raw)) { bad(src, raw, "holds white space other than spaces or tabs around its commas (a line break, NBSP, \\v …): remove it"); return raw }
	ex = "(example: 192.168.0.200/29 or 192.168.0.200-192.168.0.210)"
	n = split(raw, items, ",")
	out = ""
	for (i = 1; i <= n; i++) {
		p = trim(items[i])
		if (index(p, "-") > 0) {
			if (split(p, ends, "-") != 2) { bad(src, raw, "has pool " json(p) " that is not a range " ex); return raw }
			fa = ip_parse(ends[1], A)
			fb = ip_parse(ends[2], B)
			if (fa == 0 || fb == 0) { bad(src, raw, "has pool " json(p) " whose ends are not IP addresses " ex); return raw }
			if (fa != fb) { bad(src, raw, "has pool " json(p) " mixing IPv4 and IPv6 " ex); return raw }
			if (ip_cmp(A, B) > 0) { bad(src, raw, "has pool " json(p) " whose first address is after its last " ex); return raw }
		} else {
			slash = index(p, "/")
			plen = slash ? substr(p, slash + 1) : ""
			fa = slash ? ip_parse(substr(p, 1, slash - 1), A) : 0
			if (fa == 0 || plen !~ /^(0|[1-9][0-9]?[0-9]?)$/ || plen + 0 > (fa == 4 ? 32 : 128)) { bad(src, raw, "has pool " json(p) " that is not a CIDR or range " ex); return raw }
		}
		out = out (i > 1 ? "," : "") p
	}
	return out
}

# ---- resolution (src/config/resolve.ts) -------------------------------------

# Layers: default < kube-vip installer aliases < K3VIP_* < flags; every
# given source is parsed, in table order, so the first bad one is reported.
function resolve(i,   key, a, n, j, f) {
	key = KEY[i]
	V[key] = DEF[i]
	NAME[key] = "--" FLAG[i]
	n = split(ALIASES[i], a, " ")
	# kube-vip's names, in rising precedence; empty is unset, as in kube-vip.
	for (j = 1; j <= n; j++) {
		if (!(a[j] in ENVIRON) || ENVIRON[a[j]] == "") continue
		V[key] = parse_value(KIND[i], a[j], ENVIRON[a[j]])
		NAME[key] = a[j]
	}
	if (ENVN[i] in ENVIRON) {
		V[key] = parse_value(KIND[i], ENVN[i], ENVIRON[ENVN[i]])
		NAME[key] = ENVN[i]
	}
	f = "__K3VIP_FLAG_" FLAG[i]
	gsub(/-/, "_", f)
	if (f in ENVIRON) {
		V[key] = parse_value(KIND[i], "--" FLAG[i], ENVIRON[f])
		NAME[key] = "--" FLAG[i]
	}
}

# validateConfig of src/config/resolve.ts, rule by rule.
function validate(   A, fam, nb, rd, ld, rp, lim, ny) {
	if (V["vip"] == "") { fail_line(NAME["vip"] " is required: the virtual IP to serve the API on (example: --vip 192.168.0.10)"); return }
	fam = ip_parse(V["vip"], A)
	if (V["vipSubnet"] + 0 > (fam == 4 ? 32 : 128)) { bad(NAME["vipSubnet"], V["vipSubnet"], "is longer than an IPv" fam " prefix can be"); return }
	nb = network_or_broadcast(V["vip"], V["vipSubnet"] + 0)
	if (nb != "") { bad(NAME["vip"], V["vip"], nb); return }
	# Whole milliseconds, as validateConfig: the same boundaries, the same limit text.
	ld = to_ms(V["leaseDuration"])
	rd = to_ms(V["renewDeadline"])
	rp = to_ms(V["retryPeriod"])
	if (index(V["leaseDuration"], ".") > 0) { bad(NAME["leaseDuration"], V["leaseDuration"], "must be whole seconds (Lease.leaseDurationSeconds is an integer)"); return }
	if (rd >= ld) { bad(NAME["renewDeadline"], V["renewDeadline"], "must be shorter than the lease duration (" V["leaseDuration"] " s)"); return }
	if (rd * 10 <= rp * 12) {
		lim = int((rd * 10 + 11) / 12) - 1
		bad(NAME["retryPeriod"], V["retryPeriod"], "must be at most " ms_text(lim) " s: less than renew deadline / 1.2 (client-go's rule)")
		return
	}
	if (ld - rp < 2000) { bad(NAME["leaseDuration"], V["leaseDuration"], "must be at least the retry period + 2 s (" ms_text(rp + 2000) " s): the VIP's 1 s kernel lifetime is refreshed between renews"); return }
	if (V["handoverLease"] == V["namespace"] "/" V["leaseName"]) { bad(NAME["handoverLease"], V["handoverLease"], "is k3vip's own Lease: it names kube-vip's Lease, which k3vip waits on before its first election (example: kube-system/plndr-cp-lock; empty: none)"); return }
	# notYetSupported of src/config/resolve.ts: the same list, the same messages.
	ny = "is not supported in this version: "
	if (V["mode"] != "arp") { bad(NAME["mode"], V["mode"], ny "k3vip announces the VIP by ARP/NDP only (valid: arp)"); return }
	if (V["controlPlane"] != "true") { bad(NAME["controlPlane"], "false", ny "the control-plane VIP is all k3vip serves"); return }
	if (V["bgp.equinixMetal"] == "true") { bad(NAME["bgp.equinixMetal"], "true", ny "BGP is not in this version"); return }
	if (V["services.enabled"] == "true") { bad(NAME["services.enabled"], "true", ny "LoadBalancer Services get no VIPs from k3vip yet; turn it off, and keep another load balancer for Services (kube-vip with cp_enable=false, MetalLB, servicelb) if any use one"); return }
	if (V["bgp.localAs"] != "0") { bad(NAME["bgp.localAs"], V["bgp.localAs"], ny "it is for BGP mode, which this version does not have"); return }
	if (V["bgp.routerId"] != "") { bad(NAME["bgp.routerId"], V["bgp.routerId"], ny "it is for BGP mode, which this version does not have"); return }
	if (V["bgp.peers"] != "") { fail_line(NAME["bgp.peers"] " " ny "it is for BGP mode, which this version does not have"); return }
	if (V["services.pools"] != "") { bad(NAME["services.pools"], V["services.pools"], ny "it is for services mode, which this version does not have"); return }
	if (V["mode"] == "bgp" && V["bgp.equinixMetal"] != "true") {
		if (V["bgp.localAs"] == "0") { fail_line(NAME["bgp.localAs"] " is required in BGP mode: the local AS number (example: --bgp-as 65000)"); return }
		if (V["bgp.peers"] == "") { fail_line(NAME["bgp.peers"] " is required in BGP mode: at least one peer (example: --bgp-peers 192.168.0.1:65000)"); return }
	}
	if (V["mode"] == "arp" && V["leaderElection"] != "true") { bad(NAME["leaderElection"], "false", "works only in BGP mode: in ARP mode two nodes would answer for the VIP"); return }
	if (V["services.enabled"] == "true" && V["services.pools"] == "") { fail_line(NAME["services.pools"] " is required when services mode is on (example: --services-pools 192.168.0.200/29)"); return }
}

# "0.375" → 375: seconds (at most 3 decimals) as whole milliseconds, by digits.
function to_ms(s,   d, ip, fp) {
	d = index(s, ".")
	ip = d ? substr(s, 1, d - 1) : s
	fp = d ? substr(s, d + 1) : ""
	fp = substr(fp "000", 1, 3)
	return (ip + 0) * 1000 + (fp + 0)
}

# 3333 → "3.333", 2000 → "2" (secondsText of src/config/resolve.ts).
function ms_text(m,   f) {
	f = sprintf("%03d", m % 1000)
	sub(/0+$/, "", f)
	return int(m / 1000) (f == "" ? "" : "." f)
}

# ---- view (src/render/view.ts) ---------------------------------------------

function build_view(   i, c, host, port, A) {
	for (i = 1; i <= N; i++) { VIEW[VKEY[i]] = V[KEY[i]]; VTYPE[VKEY[i]] = "s" }
	VIEW["version"] = VERSION; VTYPE["version"] = "s"
	VIEW["services"] = V["services.enabled"]; VTYPE["services"] = "b"
	VIEW["ownNamespace"] = V["namespace"] == "kube-system" ? "false" : "true"; VTYPE["ownNamespace"] = "b"
	split(V["handoverLease"], A, "/")
	VIEW["handoverSameNamespace"] = V["handoverLease"] != "" && A[1] == V["namespace"] ? "true" : "false"; VTYPE["handoverSameNamespace"] = "b"
	VIEW["handoverOtherNamespace"] = V["handoverLease"] != "" && A[1] != V["namespace"] ? "true" : "false"; VTYPE["handoverOtherNamespace"] = "b"
	VIEW["handoverNamespace"] = A[1]; VTYPE["handoverNamespace"] = "s"
	VIEW["handoverName"] = A[2]; VTYPE["handoverName"] = "s"
	c = 0
	for (i = length(V["metricsAddr"]); i > 0; i--) if (substr(V["metricsAddr"], i, 1) == ":") { c = i; break }
	host = substr(V["metricsAddr"], 1, c - 1)
	port = substr(V["metricsAddr"], c + 1)
	if (substr(host, 1, 1) == "[") host = substr(host, 2, length(host) - 2)
	VIEW["metricsPort"] = int_str(port); VTYPE["metricsPort"] = "n"
	VIEW["hasMetricsHost"] = "true"; VTYPE["hasMetricsHost"] = "b"
	if (host == "" || host == "0.0.0.0" || (index(host, ":") > 0 && host ~ /^[0:]*$/)) { VIEW["hasMetricsHost"] = "false"; host = "" }
	VIEW["metricsHost"] = host; VTYPE["metricsHost"] = "s"
	VIEW["heartbeats"] = V["heartbeatPort"] != "0" ? "true" : "false"; VTYPE["heartbeats"] = "b"
	VIEW["heartbeatKeyDigest"] = ENVIRON["__K3VIP_HB_DIGEST"]; VTYPE["heartbeatKeyDigest"] = "s"
	VIEW["heartbeatContainerPort"] = V["heartbeatPort"]; VTYPE["heartbeatContainerPort"] = "n"
}

# ---- flat mustache -----------------------------------------------------------
# Standalone `{{#x}}` / `{{^x}}` / `{{/x}}` lines open and close sections
# (and vanish, as in mustache.js); `{{x}}` interpolates the view value.

function render_line(line,   tag, name, out, val) {
	if (line ~ /^[ \t]*[{][{][#^\/][A-Za-z0-9_]+[}][}][ \t]*$/) {
		tag = line
		sub(/^[ \t]*[{][{]/, "", tag)
		sub(/[}][}][ \t]*$/, "", tag)
		name = substr(tag, 2)
		if (!(name in VIEW)) { print "template: no view value " name; exit 1 }
		if (substr(tag, 1, 1) == "/") {
			if (depth == 0) { print "template: stray close " name; exit 1 }
			if (SKIPAT[depth]) skipping = 0
			depth--
			return
		}
		depth++
		SKIPAT[depth] = 0
		if (!skipping && ((substr(tag, 1, 1) == "#") != (VIEW[name] == "true"))) { skipping = 1; SKIPAT[depth] = 1 }
		return
	}
	if (skipping) return
	out = ""
	while (match(line, /[{][{][A-Za-z0-9_]+[}][}]/)) {
		name = substr(line, RSTART + 2, RLENGTH - 4)
		if (!(name in VIEW)) { print "template: no view value " name; exit 1 }
		val = VTYPE[name] == "s" ? json(VIEW[name]) : VIEW[name]
		out = out substr(line, 1, RSTART - 1) val
		line = substr(line, RSTART + RLENGTH)
	}
	print out line
}

# ---- interface detection -----------------------------------------------------
# interfaceForVip of src/net/addresses.ts, over `ip -o addr show` lines
# ("2: eth0    inet 192.168.0.5/24 brd … scope global eth0"): among subnets
# holding the VIP — scope global, not lo, not a host route (/32, /128), not
# the VIP itself — the longest prefix wins; another interface with that same
# prefix is a tie (exit 4).

function detect_line(   ifname, cidr, slash, N, plen, bits, i, scope) {
	if ($3 != "inet" && $3 != "inet6") return
	ifname = $2
	sub(/@.*/, "", ifname)
	if (ifname == "lo") return
	scope = ""
	for (i = 5; i < NF; i++) if ($i == "scope") { scope = $(i + 1); break }
	if (scope != "" && scope != "global") return
	cidr = $4
	slash = index(cidr, "/")
	if (slash == 0) return
	plen = substr(cidr, slash + 1) + 0
	if (ip_parse(substr(cidr, 1, slash - 1), N) == 0 || N["family"] != VIPA["family"]) return
	bits = N["family"] == 4 ? 32 : 128
	if (plen >= bits || ip_cmp(VIPA, N) == 0) return
	if (!in_subnet(VIPA, N, plen)) return
	if (plen > best) { best = plen; found = ifname; conflict = "" }
	else if (plen == best && ifname != found && index(" " conflict " ", " " ifname " ") == 0) conflict = conflict (conflict == "" ? "" : " ") ifname
}

# foreignVipProblem(…, { ownOnly: true }) of src/host/addresses.ts: the VIP
# equal to an address with a subnet prefix is the node's own.
function owncheck_line(   cidr, slash, N, plen) {
	if ($3 != "inet" && $3 != "inet6") return
	cidr = $4
	slash = index(cidr, "/")
	if (slash == 0) return
	plen = substr(cidr, slash + 1) + 0
	if (ip_parse(substr(cidr, 1, slash - 1), N) == 0 || N["family"] != VIPA["family"] || ip_cmp(VIPA, N) != 0) return
	if (plen >= (N["family"] == 4 ? 32 : 128)) return
	sub(/@.*/, "", $2)
	print "the VIP " ENVIRON["__K3VIP_VIP"] " is this node's own address on " $2 " (" ENVIRON["__K3VIP_VIP"] "/" plen "); pick a free address in the subnet"
	dead = 1
	exit 2
}

# ---- self-check (tests compare it with ipaddr.js / src/config) ----------------

function ipcheck_line(   A, fam, what) {
	fam = ip_parse($1, A)
	if (fam == 0) { print "0|||"; return }
	what = not_unicast(A)
	print fam "|" (what == "" ? "unicast" : what) "|" (fam == 4 ? v4_str(A["n"]) : v6_str(A)) "|" network_or_broadcast($1, $2 + 0)
}

function optcheck_line(   v) {
	dead = 0
	v = parse_value(KIND[$1 + 0], "SRC", substr($0, length($1) + 2))
	if (!dead) print "ok\t" v
	dead = 0
}
