"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MemoryFaults = void 0;
var transport_1 = require("@switchyard/core/transport");
/**
 * Fault injection for the memory transport, so users can test their failure paths: publishes
 * that fail, a broker that goes away, acknowledgements that are slow.
 */
var MemoryFaults = /** @class */ (function () {
    function MemoryFaults() {
        /** Extra milliseconds every ack takes. */
        this.ackDelayMs = 0;
        this.failing = 0;
        this.down = false;
        this.reconnectWaiters = [];
    }
    Object.defineProperty(MemoryFaults.prototype, "disconnected", {
        /** True between `disconnect()` and `reconnect()`. */
        get: function () {
            return this.down;
        },
        enumerable: false,
        configurable: true
    });
    /** The next `count` publishes (calls, not events) fail with `error` (a retryable `PublishError` by default). */
    MemoryFaults.prototype.failNextPublishes = function (count, error) {
        this.failing = count;
        this.failure =
            error === undefined
                ? function (topic) { return new transport_1.PublishError("Injected publish failure on \"".concat(topic, "\""), { topic: topic, retryable: true }); }
                : function () { return error; };
    };
    /** Every ack waits `ms` before it completes. */
    MemoryFaults.prototype.slowAcks = function (ms) {
        this.ackDelayMs = ms;
    };
    /** Publishes and acks fail with `ConnectionError`, subscriptions stall, health reports down. */
    MemoryFaults.prototype.disconnect = function () {
        this.down = true;
    };
    /** Ends a `disconnect()`: stalled subscriptions resume. */
    MemoryFaults.prototype.reconnect = function () {
        this.down = false;
        for (var _i = 0, _a = this.reconnectWaiters.splice(0); _i < _a.length; _i++) {
            var resolve = _a[_i];
            resolve();
        }
    };
    /** Clears every injected fault. */
    MemoryFaults.prototype.reset = function () {
        this.failing = 0;
        this.ackDelayMs = 0;
        this.reconnect();
    };
    /** @internal */
    MemoryFaults.prototype.beforePublish = function (topic) {
        this.checkConnected();
        if (this.failing > 0) {
            this.failing--;
            throw this.failure(topic);
        }
    };
    /** @internal */
    MemoryFaults.prototype.checkConnected = function () {
        if (this.down)
            throw new transport_1.ConnectionError('memory transport is disconnected (fault injection)');
    };
    /** @internal Resolves on reconnect or abort. */
    MemoryFaults.prototype.whenConnected = function (signal) {
        var _this = this;
        if (!this.down)
            return Promise.resolve();
        return new Promise(function (resolve) {
            _this.reconnectWaiters.push(resolve);
            signal.addEventListener('abort', function () { return resolve(); }, { once: true });
        });
    };
    return MemoryFaults;
}());
exports.MemoryFaults = MemoryFaults;
