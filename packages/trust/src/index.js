"use strict";
/**
 * @packageDocumentation
 *
 * Nothing believed that was not measured. A node's evidence about its peers (shards accepted,
 * failures, disputes, challenges, liveness) with decay, persisted; signed attestations of
 * challenges, checked and bounded; and the status of every claim a peer makes about itself
 * (`claimed`, `measured`, `contradicted`, `implausible`). This package has no networking: the
 * compute service runs the challenges and gossips the attestations.
 */
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.constants = exports.AttestationRejectedError = exports.gpuClaim = exports.throughputClaim = exports.TrustBook = exports.AttestationLog = exports.verifyAttestation = exports.signAttestation = void 0;
__exportStar(require("./types.js"), exports);
var attestation_js_1 = require("./attestation.js");
Object.defineProperty(exports, "signAttestation", { enumerable: true, get: function () { return attestation_js_1.signAttestation; } });
Object.defineProperty(exports, "verifyAttestation", { enumerable: true, get: function () { return attestation_js_1.verifyAttestation; } });
var attestation_log_js_1 = require("./attestation-log.js");
Object.defineProperty(exports, "AttestationLog", { enumerable: true, get: function () { return attestation_log_js_1.AttestationLog; } });
var trust_book_js_1 = require("./trust-book.js");
Object.defineProperty(exports, "TrustBook", { enumerable: true, get: function () { return trust_book_js_1.TrustBook; } });
var claims_js_1 = require("./claims.js");
Object.defineProperty(exports, "throughputClaim", { enumerable: true, get: function () { return claims_js_1.throughputClaim; } });
Object.defineProperty(exports, "gpuClaim", { enumerable: true, get: function () { return claims_js_1.gpuClaim; } });
var errors_js_1 = require("./errors.js");
Object.defineProperty(exports, "AttestationRejectedError", { enumerable: true, get: function () { return errors_js_1.AttestationRejectedError; } });
exports.constants = require("./constants.js");
