/**
 * The Jupyter wire protocol: building, signing, serialising and parsing messages.
 *
 * A message on a ZeroMQ socket is a list of frames
 *   [routing identities…, "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers…]
 * where hmac = HMAC-SHA256(key, header ‖ parent_header ‖ metadata ‖ content) in hex.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 * @see notebooks/01_score_matching.ipynb
 */
import * as crypto from "crypto";

/** The delimiter frame between routing identities and the signed message. */
export const DELIM = Buffer.from("<IDS|MSG>");

/** Protocol version spoken by this client (tslab 1.0.22 speaks 5.3). */
export const PROTOCOL_VERSION = "5.3";

/** A message header. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A decoded Jupyter message. `parent_header` is `{}` when there is none. */
export interface JupyterMessage<C = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
}

/** HMAC-SHA256 signature (hex) of the four JSON frames; empty key means unsigned. */
export function sign(key: string, frames: Array<string | Buffer>): string {
  if (key === "") return "";
  const hmac = crypto.createHmac("sha256", key);
  for (const f of frames) hmac.update(f);
  return hmac.digest("hex");
}

/** A new message from this client's `session`, with a fresh msg_id. */
export function newMessage<C>(
  msgType: string,
  content: C,
  session: string,
  parent: Partial<MessageHeader> = {},
): JupyterMessage<C> {
  return {
    header: {
      msg_id: crypto.randomUUID(),
      msg_type: msgType,
      session,
      username: "course-runner",
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    },
    parent_header: parent,
    metadata: {},
    content,
  };
}

/** Serialise and sign a message into frames (no routing identities: DEALER sockets add none). */
export function serialize(msg: JupyterMessage<unknown>, key: string): Buffer[] {
  const body = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [DELIM, Buffer.from(sign(key, body)), ...body];
}

/** Parse frames received from the kernel, verifying the signature; throws on a bad message. */
export function deserialize(frames: Buffer[], key: string): JupyterMessage {
  const at = frames.findIndex((f) => f.equals(DELIM));
  if (at < 0) throw new Error("Jupyter message without <IDS|MSG> delimiter");
  if (frames.length < at + 6) throw new Error("Jupyter message with too few frames");
  const signature = frames[at + 1].toString();
  const body = frames.slice(at + 2, at + 6);
  const expected = sign(key, body);
  const ok =
    expected.length === signature.length &&
    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!ok) throw new Error("Jupyter message with an invalid HMAC signature");
  const [header, parent, metadata, content] = body.map((b) => JSON.parse(b.toString("utf8")) as unknown);
  return {
    header: header as MessageHeader,
    parent_header: (parent ?? {}) as Partial<MessageHeader>,
    metadata: (metadata ?? {}) as Record<string, unknown>,
    content: (content ?? {}) as Record<string, unknown>,
  };
}
