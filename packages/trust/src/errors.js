"use strict";
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.AttestationRejectedError = void 0;
/** An attestation refused by `verifyAttestation` or the `AttestationLog`: `reason` says why. */
var AttestationRejectedError = /** @class */ (function (_super) {
    __extends(AttestationRejectedError, _super);
    function AttestationRejectedError(reason, message) {
        var _this = _super.call(this, "attestation rejected (".concat(reason, "): ").concat(message)) || this;
        _this.reason = reason;
        _this.code = AttestationRejectedError.code;
        _this.name = 'AttestationRejectedError';
        return _this;
    }
    AttestationRejectedError.code = 'ERR_ATTESTATION_REJECTED';
    return AttestationRejectedError;
}(Error));
exports.AttestationRejectedError = AttestationRejectedError;
