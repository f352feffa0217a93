// The checks of test_room_modules_browser.py, run in the room page with page.evaluate:
// each is [what, got, wanted], compared in Python.
async () => {
  const S = await import("/static/js/room-state.js");
  const E = await import("/static/js/room-events.js");
  const out = [];
  const check = (what, got, wanted) => out.push([what, got, wanted]);
  const now = Date.parse("2030-01-01T12:00:00Z");

  // Who is here: sorted by name, roles and names remembered; the default role.
  const st = S.createRoomState("r1", "member");
  S.setMe(st, { id: "u-ana", name: "Ana" });
  S.setPresent(st, [{ id: "u-zed", name: "Zed", role: "moderator" }, { id: "u-ana", name: "Ana" }]);
  S.changePresence(st, [{ id: "u-bo", name: "Bo" }], ["u-ana"]);
  check("present", S.presentPeople(st).map((p) => p.name), ["Bo", "Zed"]);
  check("role", S.roleOf(st, "u-zed"), "moderator");
  check("default role", S.roleOf(st, "u-bo"), "member");
  check("staff", S.isStaff(st), false);

  // Slow mode holds a member's next message back; never a moderator's.
  S.setRoomState(st, { writable: true });
  S.applyModeration(st, { slow_mode_seconds: 30, locked: false, pinned: null, newcomer: { messages: 2, seen: 0 } });
  check("can write", S.canWrite(st, true), true);
  check("not while disconnected", S.canWrite(st, false), false);
  check("nothing sent yet", S.refusal(st, now), null);
  S.noteSent(st, now);
  check("slow", S.refusal(st, now + 25000), "Slow mode is on: you can send again in 5 seconds.");
  check("slow over", S.refusal(st, now + 30000), null);
  const slowOff = S.applyEvent(st, { kind: "system", seq: 9, data: { event: "room.slow_mode", seconds: 0 } });
  check("slow mode off", [slowOff, st.mod.slow, st.nextSendAt], [{}, 0, 0]);

  // The lock, then a time-out, which outranks it; a time-out in the past is none.
  S.setLocked(st);
  check("locked", S.refusal(st, now), "A moderator has locked the room for now: you can read but not write.");
  const until = new Date(now + 60000).toISOString();
  check("time-out wait", S.setTimedOut(st, until, "Calm down", now), 60250);
  check("timed out", [S.timedOut(st, now), S.refusal(st, now).startsWith("A moderator has paused your messages until")], [true, true]);
  check("same time-out keeps its reason", [S.setTimedOut(st, until, null, now), st.mod.timeoutReason], [60250, "Calm down"]);
  check("ended", [S.setTimedOut(st, until, null, now + 61000), S.timedOut(st, now + 61000)], [null, false]);
  const moderator = S.createRoomState("r1", "organiser");
  S.setLocked(moderator);
  check("moderators pass", S.refusal(moderator, now), null);

  // Messages and room events: a redaction changes a known message only.
  S.rememberNew(st, { seq: 3, kind: "text", body: "hello", sender: { id: "u-bo", name: "Bo" } });
  check("redacted", S.applyEvent(st, { kind: "system", seq: 10, data: { event: "message.redacted", seq: 3, reason: "Rude" } }), { changed: 3 });
  check("now redacted", [st.known.get(3).status, st.known.get(3).body], ["redacted", null]);
  check("unknown seq", S.applyEvent(st, { kind: "system", seq: 11, data: { event: "message.rejected", seq: 99 } }), {});
  check("not an event", S.applyEvent(st, { kind: "system", seq: 12, data: { event: "session.opened" } }), null);
  check("your approval counts", S.applyEvent(st, { kind: "system", seq: 13, data: { event: "message.approved", seq: 4, sender: { id: "u-ana" } } }), { approved: 4, newcomer: true });
  check("seen", st.newcomer.seen, 1);
  check("your time-out", S.applyEvent(st, { kind: "system", seq: 14, data: { event: "member.timed_out", user: { id: "u-ana" }, until } }), { timeout: { until } });
  check("someone else's", S.applyEvent(st, { kind: "system", seq: 15, data: { event: "member.timed_out", user: { id: "u-bo" }, until } }), {});
  check("events once, in order", [S.isNewest(st, 5), S.isNewest(st, 5), S.isNewest(st, 4), S.isNewest(st, 6)], [true, false, false, true]);
  const expected = S.expectApproved(st, 4);
  check("approval fetch", [expected, S.takeApproved(st, expected), S.takeApproved(st, expected)], [5, true, false]);

  // Your draft becomes the message with its seq; a held message's note is said once.
  const draft = S.addDraft(st, "hi", "c-1");
  check("draft", [draft.sender.id, draft.status, st.drafts.size], ["u-ana", "visible", 1]);
  S.acknowledge(st, { client_id: "c-1", seq: 7, at: "2030-01-01T12:00:00Z", status: "held" });
  check("acked", [st.known.get(7).body, st.known.get(7).status, st.drafts.size], ["hi", "held", 0]);
  check("held note", [S.holdNote(st, "c-1", "Wait"), S.holdNote(st, "c-2", "Wait"), S.heldText(st, "c-2")], ["Wait", null, "Wait"]);
  check("held default", S.heldText(st, "c-9"), "Waiting for a moderator to look at it. Only you and the moderators can see it.");

  // The cursors, and the read position only before the room has opened.
  S.trackSeq(st, 7);
  S.trackSeq(st, 3);
  check("cursors", [st.minSeq, st.latestSeq, S.hasOlder(st)], [3, 7, true]);
  S.applySubscribed(st, { last_read: 6, role: "member", rules: null, state: { writable: true }, present: [] });
  check("read at open", [st.lastReadAtOpen, st.readSent], [6, 6]);
  S.markOpened(st);
  S.applySubscribed(st, { last_read: 2, rules: null, state: { writable: true }, present: [] });
  check("kept once open", [st.lastReadAtOpen, st.readSent], [6, 6]);
  S.forgetMessages(st);
  check("forgotten", [st.known.size, st.minSeq, S.hasOlder(st)], [0, null, false]);
  S.setRulesAccepted(st, false);
  check("rules not accepted", S.canWrite(st, true), false);

  // System events are worded from the state: a moderator named by id, approvals only for staff.
  S.setRoles(st, [{ id: "u-mo", name: "Mo", role: "moderator" }]);
  check("named by id", E.systemText(st, { kind: "system", data: { event: "session.opened", by: "u-mo" } }), "Mo opened the session.");
  const approval = { kind: "system", data: { event: "message.approved", sender: { name: "Bo" } } };
  check("approval hidden", E.systemText(st, approval), null);
  check("approval for staff", E.systemText(moderator, approval), "A moderator approved a held message from Bo.");
  check("erased", E.redactionText("Deleted by its writer"), "Deleted: its writer deleted their account.");
  check("default reason", E.redactionText("Removed by a moderator."), "Removed by a moderator.");
  return out;
}
