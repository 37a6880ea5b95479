// Why an MQTT-over-TLS connection failed, in words a district engineer can act on. MQTT 3.1.1 gives a refused client
// only a CONNACK return code (no reason text), and the broker's log is on a machine the engineer cannot read; so the
// client explains what it can see itself: the TLS error, the return code, and its own certificate checked locally
// (expired, not yet valid, issued by another CA). Shared by the gateway's uplink and `vitalwire watch`.
import { X509Certificate } from 'node:crypto';

export const CONNECT_REASONS = [
  'unknown-ca', // the broker's certificate is not signed by the CA we trust
  'broker-cert-expired',
  'host-name-mismatch', // the broker's certificate does not name the host we dialled
  'cert-rejected', // the broker refused our client certificate during the handshake
  'own-cert-expired',
  'own-cert-not-yet-valid',
  'own-cert-other-ca', // our certificate was not issued by the CA we were given (a mixed-up bundle)
  'not-authorised', // CONNACK 5: revoked, unknown, or not allowed
  'bad-credentials', // CONNACK 4: wrong user name or password
  'client-id-rejected', // CONNACK 2
  'server-unavailable', // CONNACK 3
  'protocol-refused', // CONNACK 1
  'refused', // nothing listens at host:port
  'dns', // the host name does not resolve
  'unreachable', // no route, network down
  'timeout',
  'reset', // the connection was cut without a word
  'other',
] as const;

export type ConnectReason = (typeof CONNECT_REASONS)[number];

export interface ConnectDiagnosis {
  reason: ConnectReason;
  /** One sentence, no secrets, no payloads. */
  text: string;
}

/** What our own certificate says about itself: checked before blaming the broker. */
export function checkOwnCertificate(
  certPem: string | Buffer,
  caPem: string | Buffer | undefined,
  nowMs = Date.now(),
): ConnectDiagnosis | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return { reason: 'other', text: 'our certificate file is not a readable PEM certificate' };
  }
  if (Date.parse(cert.validTo) < nowMs)
    return {
      reason: 'own-cert-expired',
      text: `our certificate expired on ${new Date(cert.validTo).toISOString()}: ask the central operator to sign a new one (vitalwire gateways sign, from this gateway's request: vitalwire gateway init --force makes one), then restart the gateway`,
    };
  if (Date.parse(cert.validFrom) > nowMs)
    return {
      reason: 'own-cert-not-yet-valid',
      text: `our certificate is valid only from ${new Date(cert.validFrom).toISOString()}: is this machine's clock right?`,
    };
  if (caPem !== undefined) {
    try {
      const ca = new X509Certificate(caPem);
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
        return {
          reason: 'own-cert-other-ca',
          text: 'our certificate was not issued by the CA file we were given: the certificate and the CA come from different sites',
        };
      }
    } catch {
      return { reason: 'other', text: 'the CA file is not a readable PEM certificate' };
    }
  }
  return null;
}

const TLS_UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * The reason behind a failed connection attempt. `err` is what the client library reported (a TLS/socket error with a
 * `code`, or a CONNACK refusal whose `code` is the return code); `own` is our own certificate check, if any.
 * `ownCertChecked`: a client certificate was presented and checkOwnCertificate found nothing wrong with it, so a
 * CONNACK 5 most likely means it was revoked.
 */
export function explainConnectError(
  err: unknown,
  target: string,
  own: ConnectDiagnosis | null = null,
  o: { ownCertChecked?: boolean } = {},
): ConnectDiagnosis {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof code === 'number') {
    // CONNACK return codes, MQTT 3.1.1 table 3.1.
    switch (code) {
      case 1:
        return {
          reason: 'protocol-refused',
          text: `${target} refused the MQTT protocol version (CONNACK 1): it is not a vitalwire broker, or too old`,
        };
      case 2:
        return {
          reason: 'client-id-rejected',
          text: `${target} rejected the client id (CONNACK 2): a gateway's id must start with its <site>/<gateway>`,
        };
      case 3:
        return {
          reason: 'server-unavailable',
          text: `${target} is up but cannot serve (CONNACK 3): its users or revocation file may be unreadable; ask the central operator`,
        };
      case 4:
        return { reason: 'bad-credentials', text: `${target} refused the user name or password (CONNACK 4)` };
      case 5:
        if (own) return own;
        if (o.ownCertChecked) {
          // The broker refuses a foreign, expired or revoked certificate with 5; the first two were ruled out here.
          return {
            reason: 'not-authorised',
            text: `${target} refused our certificate (CONNACK 5), which is current and issued by our CA: it has most likely been revoked (vitalwire gateways revoke), or the broker trusts another CA for gateways; ask the central operator`,
          };
        }
        return {
          reason: 'not-authorised',
          text: `${target} refused us (CONNACK 5): the certificate may have been revoked, or the account may not use this broker; ask the central operator`,
        };
    }
  }
  if (typeof code === 'string') {
    if (TLS_UNKNOWN_CA.has(code))
      return {
        reason: 'unknown-ca',
        text: `${target}'s certificate is not signed by our CA file (${code}): wrong CA file, or not our site's broker`,
      };
    if (code === 'CERT_HAS_EXPIRED')
      return {
        reason: 'broker-cert-expired',
        text: `${target}'s certificate has expired: the central operator must renew it`,
      };
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
      return {
        reason: 'host-name-mismatch',
        text: `${target}'s certificate does not name this host: use the host name the broker's certificate was made for (vitalwire ca init --host)`,
      };
    if (
      /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(
        code,
      ) ||
      /alert (bad certificate|unknown ca|certificate)/i.test(msg)
    ) {
      return (
        own ?? {
          reason: 'cert-rejected',
          text: `${target} rejected our certificate during the TLS handshake (${code}): it is not from this site's CA, or has been revoked`,
        }
      );
    }
    if (code === 'ECONNREFUSED')
      return {
        reason: 'refused',
        text: `nothing accepts connections at ${target}: is the central running, and is the port right?`,
      };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return { reason: 'dns', text: `the host name of ${target} does not resolve (DNS)` };
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENETDOWN')
      return { reason: 'unreachable', text: `no route to ${target} (${code}): is the uplink up?` };
    if (code === 'ETIMEDOUT')
      return { reason: 'timeout', text: `${target} did not answer in time: a firewall may drop the traffic` };
    if (code === 'ECONNRESET' || code === 'EPIPE')
      return (
        own ?? {
          reason: 'reset',
          text: `${target} cut the connection without a reason: a proxy, a firewall, or a broker that refused our certificate`,
        }
      );
  }
  if (/connack timeout|timed? ?out/i.test(msg)) return { reason: 'timeout', text: `${target} did not answer in time` };
  return own ?? { reason: 'other', text: `${target}: ${msg.slice(0, 200)}` };
}
