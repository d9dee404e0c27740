import { TopicValidatorResult } from '@libp2p/gossipsub'
import { ATTESTATION_TOPIC } from '@shardmesh/protocol'
import { verifyAttestation } from '@shardmesh/trust'
import type { Message, PublishResult, TopicValidatorFn } from '@libp2p/gossipsub'
import type { CounterGroup, Logger, Metrics, PeerId } from '@libp2p/interface'
import type { TrustBook, VerifiedAttestation } from '@shardmesh/trust'

/** The part of gossipsub attestations use (structural, like the capabilities service's). */
export interface AttestationPubSub {
  topicValidators: Map<string, TopicValidatorFn>
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<PublishResult>
}

export interface AttestationGossipInit {
  pubsub: AttestationPubSub
  trust: TrustBook
  /** this node: its own attestations relayed back are ignored */
  self: PeerId
  log: Logger
  metrics?: Metrics
  /** @default ATTESTATION_TOPIC */
  topic?: string
  /** the clock attestations are checked against @default Date.now */
  now?(): number
  /** told every refusal, with its reason */
  onRejected?(refusal: AttestationRefusal): void
}

/** What the validator needs; `rejected` counts refusals by reason. */
export interface AttestationValidation {
  trust: TrustBook
  self: PeerId
  log: Logger
  rejected?: CounterGroup
  now?(): number
  /** told every refusal, with its reason */
  onRejected?(refusal: AttestationRefusal): void
}

/** An attestation the gossip refused. */
export interface AttestationRefusal {
  /** the publisher, when the message was signed */
  from?: string
  reason: string
  detail: string
}

/**
 * Refusals that may be honest (a duplicate path, a slow relay, a busy challenger, our own
 * attestation coming back): ignored (not delivered, not forwarded) without penalising the relay.
 * Everything else (forged, malformed, self-attesting, published by another than its challenger)
 * is rejected, which gossipsub's peer scoring holds against the peer that sent it.
 */
const BENIGN: ReadonlySet<string> = new Set(['replayed', 'rate-limited', 'expired', 'future', 'own', 'error'])

/**
 * The gossipsub topic validator of attestations, as a function: the message must be signed by
 * its publisher (gossipsub's StrictSign), verify (`verifyAttestation` with `from` = the
 * publisher, who must be the challenger), not be this node's own, and be taken by the trust
 * book (which refuses replays and challengers over their rate). Accepted, or Ignore/Reject with
 * the reason logged at debug level and counted; never throws.
 */
export async function validateAttestationMessage (message: Message, context: AttestationValidation): Promise<TopicValidatorResult> {
  let reason: string
  let detail: string
  try {
    if (message.type !== 'signed') {
      reason = 'not-sender'
      detail = 'unsigned gossip message: its publisher is unknown'
    } else {
      const attestation = await verifyAttestation(message.data, { from: message.from, now: context.now?.() })
      if (attestation.challenger.equals(context.self)) {
        reason = 'own'
        detail = 'this node\'s own attestation'
      } else {
        context.trust.addAttestation(attestation)
        return TopicValidatorResult.Accept
      }
    }
  } catch (err: any) {
    reason = typeof err?.reason === 'string' ? err.reason : 'error'
    detail = String(err?.message ?? err)
  }
  context.rejected?.increment({ [reason]: true })
  context.onRejected?.({ from: message.type === 'signed' ? message.from.toString() : undefined, reason, detail })
  context.log('attestation from %s refused (%s): %s', message.type === 'signed' ? message.from.toString() : 'an unknown publisher', reason, detail)
  return BENIGN.has(reason) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
}

/**
 * Attestations on gossipsub: subscribes to ATTESTATION_TOPIC, checks every message with
 * `validateAttestationMessage` (valid ones enter the trust book, where the attester's own
 * score weighs them), and publishes this node's. Publishing never throws: an attestation that
 * reaches no peer (none subscribed yet) is logged.
 */
export class AttestationGossip {
  private readonly init: AttestationGossipInit
  private readonly topic: string
  private readonly rejected?: CounterGroup
  private started = false

  constructor (init: AttestationGossipInit) {
    this.init = init
    this.topic = init.topic ?? ATTESTATION_TOPIC
    this.rejected = init.metrics?.registerCounterGroup('shardmesh_trust_attestations_rejected_total', { label: 'reason', help: 'Gossiped attestations refused, by reason' })
  }

  /** The topic validator gossipsub calls for every attestation message. */
  readonly validate = async (_from: PeerId, message: Message): Promise<TopicValidatorResult> => {
    return validateAttestationMessage(message, {
      trust: this.init.trust,
      self: this.init.self,
      log: this.init.log,
      rejected: this.rejected,
      now: this.init.now,
      onRejected: this.init.onRejected
    })
  }

  start (): void {
    if (this.started) {
      return
    }
    this.started = true
    this.init.pubsub.topicValidators.set(this.topic, this.validate)
    this.init.pubsub.subscribe(this.topic)
  }

  stop (): void {
    if (!this.started) {
      return
    }
    this.started = false
    if (this.init.pubsub.topicValidators.get(this.topic) === this.validate) {
      this.init.pubsub.topicValidators.delete(this.topic)
    }
    try {
      this.init.pubsub.unsubscribe(this.topic)
    } catch (err: any) {
      // gossipsub stopped first (libp2p stops services together): its subscriptions are gone
      this.init.log('attestation topic left with gossipsub: %s', err.message)
    }
  }

  /** Publish one of this node's attestations; failures are logged, never thrown. */
  publish (attestation: VerifiedAttestation): void {
    if (!this.started) {
      this.init.log('attestation %s not published: gossip is stopped', attestation.id)
      return
    }
    let publishing: Promise<PublishResult>
    try {
      publishing = this.init.pubsub.publish(this.topic, attestation.bytes)
    } catch (err: any) {
      this.init.log('attestation %s not published: %s', attestation.id, err?.message ?? err)
      return
    }
    publishing.then(result => {
      this.init.log.trace('attestation %s published to %d peers', attestation.id, result.recipients.length)
    }, (err: any) => {
      this.init.log('attestation %s not published: %s', attestation.id, err?.message ?? err)
    })
  }
}
