/**
 * The access-log record of spec §4.1 (`VpcLatticeAccessLogs`, one JSON object per request), built
 * from what the data plane knows about a finished request. Absent values follow what Lattice
 * writes (spec §4.1: `"-"` observed, `null` documented): strings and durations that do not apply
 * are `"-"`; `resolvedUser` and `authDeniedReason` are `null` when auth was not evaluated / not
 * denied, as the documentation shows.
 */

/** Caller details the auth gate resolved (spec §4.1 `callerPrincipal*`). */
export interface CallerDetail {
  readonly callerPrincipal?: string | undefined;
  readonly callerPrincipalOrgID?: string | undefined;
  readonly callerPrincipalTags?: string | undefined;
}

/**
 * The fields of the data plane's per-request record (src/dataplane/request-record.ts) that the
 * log needs — named structurally because observability/ does not import the data plane
 * (DESIGN.md rooms); `bin/` hands the data plane's records straight in.
 */
export interface RequestRecordFields {
  readonly startTime: number;
  readonly requestId: string;
  readonly serviceNetworkArn: string;
  readonly serviceArn: string;
  readonly targetGroupArn: string;
  readonly listenerId: string;
  readonly sourceVpcId: string;
  readonly sourceVpcArn: string;
  readonly sourceIpPort: string;
  readonly targetIpPort: string;
  readonly requestMethod: string;
  readonly requestPath: string;
  readonly protocol: string;
  readonly hostHeader: string;
  readonly userAgent: string;
  /** TLS SNI of an HTTPS request or a TLS passthrough connection (absent or empty: `"-"`). */
  readonly serverNameIndication?: string;
  /** TLS version and OpenSSL cipher name of an HTTPS request (absent or empty: `"-"`). */
  readonly tlsVersion?: string;
  readonly sslCipher?: string;
  /** 0 when no response head was sent. */
  readonly responseCode: number;
  /** gRPC status of a gRPC request (spec §4.1); absent or negative: not gRPC (`"-"`). */
  readonly grpcResponseCode?: number;
  readonly duration: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** `Date.now()` when a body-less request went to the target (0: not, or streamed body). */
  readonly sentToTargetAt: number;
  /** `Date.now()` when the target's response head was relayed (0: no target answer). */
  readonly firstByteFromTargetAt: number;
  readonly failureReason: string | undefined;
  readonly authDeniedReason: string | undefined;
  readonly resolvedUser: string | null;
  readonly auth?: CallerDetail | undefined;
}

/** One §4.1 record, field for field, in Lattice's order. */
export interface AccessLogRecord {
  startTime: string;
  requestId: string;
  serviceNetworkArn: string;
  serviceArn: string;
  targetGroupArn: string;
  listenerType: string;
  listenerId: string;
  sourceVpcArn: string;
  sourceVpcId: string;
  destinationVpcId: string;
  sourceIpPort: string;
  targetIpPort: string;
  requestMethod: string;
  requestPath: string;
  protocol: string;
  responseCode: number | '-';
  grpcResponseCode: number | '-';
  bytesReceived: number;
  bytesSent: number;
  duration: number;
  requestToTargetDuration: number | '-';
  responseFromTargetDuration: number | '-';
  userAgent: string;
  hostHeader: string;
  serverNameIndication: string;
  sslCipher: string;
  tlsVersion: string;
  resolvedUser: string | null;
  authDeniedReason: string | null;
  callerPrincipal: string;
  callerPrincipalOrgID: string;
  callerPrincipalTags: string;
  callerX509SubjectCN: string;
  callerX509IssuerOU: string;
  callerX509SANNameCN: string;
  callerX509SANDNS: string;
  callerX509SANURI: string;
  failureReason: string;
}

/** Every §4.1 field name, in order (tests and docs check against it). */
export const ACCESS_LOG_FIELDS: readonly (keyof AccessLogRecord)[] = [
  'startTime',
  'requestId',
  'serviceNetworkArn',
  'serviceArn',
  'targetGroupArn',
  'listenerType',
  'listenerId',
  'sourceVpcArn',
  'sourceVpcId',
  'destinationVpcId',
  'sourceIpPort',
  'targetIpPort',
  'requestMethod',
  'requestPath',
  'protocol',
  'responseCode',
  'grpcResponseCode',
  'bytesReceived',
  'bytesSent',
  'duration',
  'requestToTargetDuration',
  'responseFromTargetDuration',
  'userAgent',
  'hostHeader',
  'serverNameIndication',
  'sslCipher',
  'tlsVersion',
  'resolvedUser',
  'authDeniedReason',
  'callerPrincipal',
  'callerPrincipalOrgID',
  'callerPrincipalTags',
  'callerX509SubjectCN',
  'callerX509IssuerOU',
  'callerX509SANNameCN',
  'callerX509SANDNS',
  'callerX509SANURI',
  'failureReason',
];

const DASH = '-';

function orDash(value: string | undefined): string {
  return value === undefined || value === '' ? DASH : value;
}

/** `YYYY-MM-DDTHH:MM:SSZ` (spec §4.1: second precision, UTC). */
export function formatStartTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/** `HTTP/1.1`, `HTTP/1.0`, or `HTTP/2` (Lattice writes `HTTP/2`, Node reports `2.0`). */
function protocolName(protocol: string): string {
  return protocol === 'HTTP/2.0' ? 'HTTP/2' : orDash(protocol);
}

/**
 * Builds the §4.1 record. `destinationVpcId` is the VPC of the target group that served the
 * request (looked up per snapshot by the router), `"-"` when none did.
 */
export function toAccessLogRecord(
  r: RequestRecordFields,
  destinationVpcId: string | undefined,
): AccessLogRecord {
  const end = r.startTime + r.duration;
  const reached = r.firstByteFromTargetAt > 0;
  const sentAt = r.sentToTargetAt > 0 ? r.sentToTargetAt : r.firstByteFromTargetAt;
  const auth = r.auth;
  return {
    startTime: formatStartTime(r.startTime),
    requestId: orDash(r.requestId),
    serviceNetworkArn: orDash(r.serviceNetworkArn),
    serviceArn: orDash(r.serviceArn),
    targetGroupArn: orDash(r.targetGroupArn),
    // Observed records show "-" for the type; Trellis has only HTTP listeners today.
    listenerType: DASH,
    listenerId: orDash(r.listenerId),
    sourceVpcArn: orDash(r.sourceVpcArn),
    sourceVpcId: orDash(r.sourceVpcId),
    destinationVpcId: orDash(destinationVpcId),
    sourceIpPort: orDash(r.sourceIpPort),
    targetIpPort: orDash(r.targetIpPort),
    requestMethod: orDash(r.requestMethod),
    requestPath: orDash(r.requestPath),
    protocol: protocolName(r.protocol),
    responseCode: r.responseCode > 0 ? r.responseCode : DASH,
    grpcResponseCode:
      r.grpcResponseCode !== undefined && r.grpcResponseCode >= 0 ? r.grpcResponseCode : DASH,
    bytesReceived: r.bytesReceived,
    bytesSent: r.bytesSent,
    duration: r.duration,
    requestToTargetDuration: sentAt > 0 ? Math.max(0, sentAt - r.startTime) : DASH,
    responseFromTargetDuration: reached ? Math.max(0, end - r.firstByteFromTargetAt) : DASH,
    userAgent: orDash(r.userAgent),
    hostHeader: orDash(r.hostHeader),
    // TLS fields: HTTPS requests have all three; TLS passthrough connections only the SNI.
    serverNameIndication: orDash(r.serverNameIndication),
    sslCipher: orDash(r.sslCipher),
    tlsVersion: orDash(r.tlsVersion),
    resolvedUser: r.resolvedUser,
    authDeniedReason: r.authDeniedReason ?? null,
    callerPrincipal: orDash(auth?.callerPrincipal),
    callerPrincipalOrgID: orDash(auth?.callerPrincipalOrgID),
    callerPrincipalTags: orDash(auth?.callerPrincipalTags),
    callerX509SubjectCN: DASH,
    callerX509IssuerOU: DASH,
    callerX509SANNameCN: DASH,
    callerX509SANDNS: DASH,
    callerX509SANURI: DASH,
    failureReason: orDash(r.failureReason),
  };
}

// Printable ASCII without `"` and `\`: such strings are valid JSON between quotes as they are.
const JSON_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  return JSON_SAFE.test(value) ? `"${value}"` : JSON.stringify(value);
}

function jsonNullable(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : JSON.stringify(value);
}

let stampSecond = -1;
let stampText = '';

/** `startTime`, cached per second: under load consecutive records share it. */
function startTimeJson(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampText = `"${formatStartTime(ms)}"`;
  }
  return stampText;
}

// The fields Trellis always writes as "-" (see toAccessLogRecord), joined once.
const X509_DASHES =
  '"callerX509SubjectCN":"-","callerX509IssuerOU":"-","callerX509SANNameCN":"-","callerX509SANDNS":"-","callerX509SANURI":"-"';

/**
 * One JSON line of the record (no trailing newline): the same object as
 * `JSON.stringify(toAccessLogRecord(r, destinationVpcId))`, written by hand because this runs for
 * every logged request (a test holds the two equal).
 */
export function formatAccessLogLine(
  r: RequestRecordFields,
  destinationVpcId: string | undefined,
): string {
  const end = r.startTime + r.duration;
  const reached = r.firstByteFromTargetAt > 0;
  const sentAt = r.sentToTargetAt > 0 ? r.sentToTargetAt : r.firstByteFromTargetAt;
  const auth = r.auth;
  const toTarget = sentAt > 0 ? String(Math.max(0, sentAt - r.startTime)) : '"-"';
  const fromTarget = reached ? String(Math.max(0, end - r.firstByteFromTargetAt)) : '"-"';
  return (
    `{"startTime":${startTimeJson(r.startTime)},"requestId":${jsonString(r.requestId)}` +
    `,"serviceNetworkArn":${jsonString(r.serviceNetworkArn)},"serviceArn":${jsonString(r.serviceArn)}` +
    `,"targetGroupArn":${jsonString(r.targetGroupArn)},"listenerType":"-","listenerId":${jsonString(r.listenerId)}` +
    `,"sourceVpcArn":${jsonString(r.sourceVpcArn)},"sourceVpcId":${jsonString(r.sourceVpcId)}` +
    `,"destinationVpcId":${jsonString(destinationVpcId)},"sourceIpPort":${jsonString(r.sourceIpPort)}` +
    `,"targetIpPort":${jsonString(r.targetIpPort)},"requestMethod":${jsonString(r.requestMethod)}` +
    `,"requestPath":${jsonString(r.requestPath)},"protocol":${jsonString(protocolName(r.protocol))}` +
    `,"responseCode":${r.responseCode > 0 ? r.responseCode : '"-"'}` +
    `,"grpcResponseCode":${r.grpcResponseCode !== undefined && r.grpcResponseCode >= 0 ? r.grpcResponseCode : '"-"'}` +
    `,"bytesReceived":${r.bytesReceived},"bytesSent":${r.bytesSent},"duration":${r.duration}` +
    `,"requestToTargetDuration":${toTarget},"responseFromTargetDuration":${fromTarget}` +
    `,"userAgent":${jsonString(r.userAgent)},"hostHeader":${jsonString(r.hostHeader)}` +
    `,"serverNameIndication":${jsonString(r.serverNameIndication)}` +
    `,"sslCipher":${jsonString(r.sslCipher)},"tlsVersion":${jsonString(r.tlsVersion)}` +
    `,"resolvedUser":${jsonNullable(r.resolvedUser)},"authDeniedReason":${jsonNullable(r.authDeniedReason)}` +
    `,"callerPrincipal":${jsonString(auth?.callerPrincipal)},"callerPrincipalOrgID":${jsonString(auth?.callerPrincipalOrgID)}` +
    `,"callerPrincipalTags":${jsonString(auth?.callerPrincipalTags)},${X509_DASHES}` +
    `,"failureReason":${jsonString(r.failureReason)}}`
  );
}
