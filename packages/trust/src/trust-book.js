"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.TrustBook = void 0;
/**
 * A node's own memory of its peers: evidence with decay, measured speeds, probation, and the
 * attestations of others weighted by their own score. Persisted in `file` so that a restart
 * forgets nothing (writes are coalesced; `flush()` forces one). No networking.
 */
var TrustBook = /** @class */ (function () {
    function TrustBook() {
    }
    /** Open the book, loading `init.file` when it exists. A corrupt file is kept aside as `<file>.corrupt` and the book starts empty. */
    TrustBook.open = function (init) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                throw new Error('not implemented');
            });
        });
    };
    /** Add one piece of this node's own evidence about a peer. */
    TrustBook.prototype.record = function (peer, kind, weight) {
        if (weight === void 0) { weight = 1; }
    };
    /** Add a speed this node measured (a challenge, or a real shard it timed). */
    TrustBook.prototype.measure = function (peer, measurement) { };
    /** Add a verified attestation of another node (refused by the log: replay, rate; throws). */
    TrustBook.prototype.addAttestation = function (attestation) { };
    /** The peer's score from this node's evidence and weighted attestations. */
    TrustBook.prototype.score = function (peer) {
        throw new Error('not implemented');
    };
    /**
     * The best recent measurement of a workload on a peer: this node's own first, else one from an
     * attestation whose challenger's score is at least TRUSTED_ATTESTER_SCORE.
     */
    TrustBook.prototype.measured = function (peer, workload, version) {
        return undefined;
    };
    /** Every measurement held about a peer (own and trusted attestations), newest first. */
    TrustBook.prototype.measurements = function (peer) {
        return [];
    };
    /** The in-flight window a peer earned for a workload in earlier jobs, if any. */
    TrustBook.prototype.earnedWindow = function (peer, workload) {
        return undefined;
    };
    /** Remember the window a peer earned by the end of a job. */
    TrustBook.prototype.setEarnedWindow = function (peer, workload, window) { };
    /** Peers the book holds anything about. */
    TrustBook.prototype.peers = function () {
        return [];
    };
    /** Write the book to its file now (no-op without one). */
    TrustBook.prototype.flush = function () {
        return __awaiter(this, void 0, void 0, function () { return __generator(this, function (_a) {
            return [2 /*return*/];
        }); });
    };
    /** Flush and stop the write timer. */
    TrustBook.prototype.close = function () {
        return __awaiter(this, void 0, void 0, function () { return __generator(this, function (_a) {
            return [2 /*return*/];
        }); });
    };
    return TrustBook;
}());
exports.TrustBook = TrustBook;
