"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.resolveOptions = resolveOptions;
var transport_1 = require("@switchyard/core/transport");
/** Validates options and applies defaults. @throws {ConfigurationError} naming the field. */
function resolveOptions(options) {
    var _a, _b, _c, _d;
    (0, transport_1.checkKeys)(options, ['broker', 'maxQueueSize', 'publishTimeoutMs', 'historySize', 'passByReference'], 'memoryTransport');
    return {
        maxQueueSize: (0, transport_1.checkNumber)((_a = options.maxQueueSize) !== null && _a !== void 0 ? _a : 100000, 'memoryTransport.maxQueueSize', { min: 1, integer: true }),
        publishTimeoutMs: (0, transport_1.checkNumber)((_b = options.publishTimeoutMs) !== null && _b !== void 0 ? _b : 30000, 'memoryTransport.publishTimeoutMs', { min: 0 }),
        historySize: (0, transport_1.checkNumber)((_c = options.historySize) !== null && _c !== void 0 ? _c : 10000, 'memoryTransport.historySize', { min: 0, integer: true }),
        passByReference: (_d = options.passByReference) !== null && _d !== void 0 ? _d : false,
    };
}
