// The per-message menu: where report, mute and block hang.
//
// MODERATION SEAM: the moderation work registers its actions here, for example
//   registerMessageAction({
//     id: "report",
//     label: (message) => `Report this message from ${message.sender.name}`,
//     shows: (message, me) => message.kind === "text" && message.sender?.id !== me.id,
//     run: (message, api) => api.send({ type: "report.create", room: message.room, seq: message.seq, ... }),
//   });
// and the room page shows each action that applies in every message's menu. `api`
// gives `send(frame)` (a frame to the server), `notify(text)` (a polite announcement)
// and `hideSender(userId)` (stop showing that person's messages on this page).

const actions = [];

export function registerMessageAction(action) {
  if (!action || typeof action.id !== "string" || typeof action.run !== "function") {
    throw new TypeError("an action needs an id and a run(message, api) function");
  }
  if (actions.some((a) => a.id === action.id)) return;
  actions.push(action);
}

export function actionsFor(message, me) {
  return actions.filter((a) => (typeof a.shows === "function" ? a.shows(message, me) : true));
}

// Always there: copying a message's text (people quote each other, or keep words
// that helped them).
registerMessageAction({
  id: "copy",
  label: () => "Copy the text",
  shows: (message) => typeof message.body === "string" && message.body.length > 0,
  run: async (message, api) => {
    try {
      await navigator.clipboard.writeText(message.body);
      api.notify("Copied.");
    } catch (err) {
      api.notify("Copying is not allowed here.");
    }
  },
});
