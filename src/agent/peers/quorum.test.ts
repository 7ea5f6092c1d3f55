import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Heartbeat } from "./codec.ts";
import { ackedSince, candidateRank, holderGaveUp, majority, peersReachedApi, silentVoters, takeoverBacked, type FollowerView, type Heard, type SentLog } from "./quorum.ts";

const hb = (node: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  node,
  boot: 1n,
  seq: 1n,
  wallMs: 0,
  holding: false,
  leader: false,
  apiOk: true,
  holderSilent: false,
  holderApiDown: false,
  transitions: 1,
  holder: "srv1",
  holderSeq: 0n,
  silentMs: 0,
  apiAgoMs: 0,
  ...over,
});
const heard = (...xs: [string, Partial<Heartbeat>, number][]): Map<string, Heard> => new Map(xs.map(([n, o, at]) => [n, { hb: hb(n, o), at }]));

describe("majority", () => {
  it("more than half of all servers; 2 servers need both, 1 needs itself", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
  });
});

describe("holder: acknowledged heartbeats", () => {
  const log: SentLog = { boot: 1n, sent: [10, 20, 30, 40, 50].map((s, i) => ({ seq: BigInt(i + 1), at: s * 10 })) };
  const S3 = ["srv1", "srv2", "srv3"];
  it("3 servers: one peer's ack makes a majority; S is the send time of the newest seq it acked", () => {
    const r = ackedSince("srv1", S3, heard(["srv2", { holderSeq: 4n }, 0], ["srv3", { holderSeq: 2n }, 0]), log, 999);
    assert.equal(r.majority, 400, "srv2 received the heartbeat sent at 400");
    assert.equal(r.all, 200, "every peer received one sent at 200 or later");
  });
  it("5 servers need two peers: S is the second-newest ack", () => {
    const S5 = ["srv1", "srv2", "srv3", "srv4", "srv5"];
    const r = ackedSince("srv1", S5, heard(["srv2", { holderSeq: 5n }, 0], ["srv3", { holderSeq: 3n }, 0], ["srv4", { holderSeq: 1n }, 0]), log, 999);
    assert.equal(r.majority, 300);
    assert.equal(r.all, null, "srv5 acked nothing");
  });
  it("acks for another holder, or for seqs no longer in the log, count for nothing", () => {
    const r = ackedSince("srv1", S3, heard(["srv2", { holder: "srv3", holderSeq: 5n }, 0], ["srv3", { holderSeq: 99n }, 0]), log, 999);
    assert.deepEqual(r, { majority: null, all: null });
  });
  it("2 servers: the one peer must ack; 1 server: itself is a majority at any time", () => {
    assert.equal(ackedSince("srv1", ["srv1", "srv2"], heard(), log, 999).majority, null);
    assert.equal(ackedSince("srv1", ["srv1", "srv2"], heard(["srv2", { holderSeq: 3n }, 0]), log, 999).majority, 300);
    assert.deepEqual(ackedSince("srv1", ["srv1"], heard(), log, 999), { majority: 999, all: 999 });
  });
});

describe("followers: silence, votes and candidates", () => {
  const base = (over: Partial<FollowerView> = {}): FollowerView => ({
    self: "srv2",
    servers: ["srv1", "srv2", "srv3"],
    holder: "srv1",
    heard: heard(),
    heardHolderAt: 0,
    now: 1000,
    silenceMs: 600,
    freshMs: 600,
    ...over,
  });
  it("this node alone is not a majority of 3; with one peer also finding the holder silent it is", () => {
    assert.equal(takeoverBacked(base()), false);
    assert.equal(takeoverBacked(base({ heard: heard(["srv3", { holderSilent: true }, 900]) })), true);
  });
  it("a stale vote, a vote about another holder, or the holder itself never counts", () => {
    assert.equal(takeoverBacked(base({ heard: heard(["srv3", { holderSilent: true }, 300]) })), false, "heard 700 ms ago");
    assert.equal(takeoverBacked(base({ heard: heard(["srv3", { holderSilent: true, holder: "srv9" }, 900]) })), false);
    assert.deepEqual(silentVoters(base({ heard: heard(["srv1", { holderSilent: true, leader: true }, 900]) })), ["srv2"]);
  });
  it("not silent yet: heard the holder 599 ms ago", () => {
    assert.deepEqual(silentVoters(base({ heardHolderAt: 401, heard: heard(["srv3", { holderSilent: true }, 900]) })), ["srv3"]);
  });
  it("a holder that says its API server is down and it dropped the VIP: votes at once, no silence needed", () => {
    const v = base({ heardHolderAt: 990, heard: heard(["srv1", { apiOk: false, holding: false, leader: true }, 990], ["srv3", { holderApiDown: true }, 995]) });
    assert.equal(holderGaveUp(v), true);
    assert.equal(takeoverBacked(v), true);
    assert.equal(holderGaveUp(base({ heardHolderAt: 990, heard: heard(["srv1", { apiOk: false, holding: true }, 990]) })), false, "still carries the VIP");
    assert.equal(holderGaveUp(base({ heardHolderAt: 990, heard: heard(["srv1", { apiOk: true, holding: false, leader: false }, 990]) })), true, "cut off from the API: stopped leading");
    assert.equal(holderGaveUp(base({ heardHolderAt: 990, heard: heard(["srv1", { apiOk: true, holding: false, leader: true }, 990]) })), false, "leads, VIP not added yet");
  });
  it("2 servers: a takeover needs both, so a silent holder is left to the Lease's expiry; a holder that gave up consents", () => {
    const two = base({ servers: ["srv1", "srv2"] });
    assert.equal(takeoverBacked(two), false, "the silent follower alone is 1 of 2");
    assert.equal(takeoverBacked({ ...two, heardHolderAt: 990, heard: heard(["srv1", { apiOk: false, holding: false }, 990]) }), true, "the holder's own word is its vote");
    assert.equal(candidateRank({ ...two, heardHolderAt: 990, heard: heard(["srv1", { apiOk: false, holding: false }, 990]) }, true), 0);
  });
  it("candidates in name order among healthy voters; an unhealthy node is never one", () => {
    const v = base({ self: "srv3", heard: heard(["srv2", { holderSilent: true }, 900]) });
    assert.equal(candidateRank(v, true), 1, "srv2 comes first");
    assert.equal(candidateRank({ ...v, heard: heard(["srv2", { holderSilent: true, apiOk: false }, 900]) }, true), 0, "srv2's API server is down");
    assert.equal(candidateRank(v, false), -1);
  });
});

describe("peersReachedApi (rule 15)", () => {
  const at = (node: string, atMs: number, apiAgoMs: number): [string, Heard] => [node, { at: atMs, hb: hb(node, { apiAgoMs }) }];
  it("counts fresh peers whose last API success (receipt − apiAgoMs) is at or after `since`; never self, never stale or never-reached", () => {
    const heard = new Map<string, Heard>([at("a", 10_000, 500), at("b", 10_000, 3000), at("c", 9000, 0), at("d", 10_000, 0xffffffff), at("self", 10_000, 0)]);
    const servers = ["a", "b", "c", "d", "self"];
    assert.equal(peersReachedApi("self", servers, heard, 10_100, 600, 9400), 1, "a (9500); b reached it at 7000; c is stale; d never");
    assert.equal(peersReachedApi("self", servers, heard, 10_100, 600, 9600), 0);
    assert.equal(peersReachedApi("self", servers, heard, 10_100, 2000, 6000), 3, "a, b, and c once fresh enough");
  });
});
