"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.AttestationLog = void 0;
/**
 * The attestations a node holds, bounded in size and rate: a replay (an id already held, or a
 * challenger's attestation about a subject and workload no newer than one held) is refused
 * `replayed`, a challenger over its rate `rate-limited`.
 */
var AttestationLog = /** @class */ (function () {
    function AttestationLog(init) {
        if (init === void 0) { init = {}; }
    }
    /** Keep a verified attestation; throws `AttestationRejectedError` ('replayed' | 'rate-limited'). */
    AttestationLog.prototype.accept = function (attestation, now) {
        if (now === void 0) { now = Date.now(); }
        throw new Error('not implemented');
    };
    /** Unexpired attestations about a subject, newest first. */
    AttestationLog.prototype.about = function (subject, now) {
        if (now === void 0) { now = Date.now(); }
        return [];
    };
    /** Every held attestation (for persistence and for serving). */
    AttestationLog.prototype.list = function (now) {
        if (now === void 0) { now = Date.now(); }
        return [];
    };
    Object.defineProperty(AttestationLog.prototype, "size", {
        get: function () {
            return 0;
        },
        enumerable: false,
        configurable: true
    });
    return AttestationLog;
}());
exports.AttestationLog = AttestationLog;
