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
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.MemoryTransport = void 0;
exports.memoryTransport = memoryTransport;
exports.createMemoryBroker = createMemoryBroker;
var transport_1 = require("@switchyard/core/transport");
var broker_js_1 = require("./broker.js");
var faults_js_1 = require("./faults.js");
var options_js_1 = require("./options.js");
var FEATURES = {
    consumerGroups: true,
    orderedPerKey: true,
    persistent: true,
    replayFromStart: true,
    nativeDelay: true,
};
/**
 * The in-memory transport: a broker inside the process with the same semantics as the real
 * adapters (groups, at-least-once, redelivery, history, backpressure), plus fault injection.
 */
var MemoryTransport = /** @class */ (function () {
    function MemoryTransport(options) {
        if (options === void 0) { options = {}; }
        var _this = this;
        var _a;
        /** Always `memory`. */
        this.name = 'memory';
        /** Capability flags. */
        this.features = FEATURES;
        /** Fault injection: failing publishes, disconnects, slow acks. */
        this.faults = new faults_js_1.MemoryFaults();
        this.subscriptions = new Set();
        this.closed = false;
        this.options = (0, options_js_1.resolveOptions)(options);
        this.broker = (_a = options.broker) !== null && _a !== void 0 ? _a : new broker_js_1.MemoryBroker();
        this.passByReference = this.options.passByReference;
        this.control = {
            ackDelayMs: function () { return _this.faults.ackDelayMs; },
            checkConnected: function () { return _this.faults.checkConnected(); },
        };
    }
    /** The in-memory transport needs no connection; resolves at once. */
    MemoryTransport.prototype.connect = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                this.closed = false;
                return [2 /*return*/];
            });
        });
    };
    /** Appends messages to the topic, waiting for room while a group is `maxQueueSize` behind. */
    MemoryTransport.prototype.publish = function (topicName, messages) {
        return __awaiter(this, void 0, void 0, function () {
            var topic, _a, maxQueueSize, publishTimeoutMs, historySize, deadline, _loop_1;
            return __generator(this, function (_b) {
                switch (_b.label) {
                    case 0:
                        this.faults.beforePublish(topicName);
                        topic = this.broker.topic(topicName);
                        _a = this.options, maxQueueSize = _a.maxQueueSize, publishTimeoutMs = _a.publishTimeoutMs, historySize = _a.historySize;
                        if (!(this.broker.fullest(topic) + messages.length > maxQueueSize)) return [3 /*break*/, 3];
                        deadline = Date.now() + publishTimeoutMs;
                        _loop_1 = function () {
                            var left;
                            return __generator(this, function (_c) {
                                switch (_c.label) {
                                    case 0:
                                        left = deadline - Date.now();
                                        if (left <= 0) {
                                            throw new transport_1.PublishError("Topic \"".concat(topicName, "\" has a group ").concat(maxQueueSize, " events behind (maxQueueSize); gave up after ").concat(publishTimeoutMs, " ms"), { topic: topicName });
                                        }
                                        return [4 /*yield*/, new Promise(function (resolve) {
                                                var timer = setTimeout(resolve, Math.min(left, 50));
                                                topic.spaceWaiters.push(function () {
                                                    clearTimeout(timer);
                                                    resolve();
                                                });
                                            })];
                                    case 1:
                                        _c.sent();
                                        return [2 /*return*/];
                                }
                            });
                        };
                        _b.label = 1;
                    case 1:
                        if (!(this.broker.fullest(topic) + Math.min(messages.length, maxQueueSize) > maxQueueSize)) return [3 /*break*/, 3];
                        return [5 /*yield**/, _loop_1()];
                    case 2:
                        _b.sent();
                        return [3 /*break*/, 1];
                    case 3:
                        this.broker.append(topic, messages, historySize);
                        return [2 /*return*/];
                }
            });
        });
    };
    /** Joins (or creates) the group and returns a pull subscription. */
    MemoryTransport.prototype.subscribe = function (topicName, options) {
        return __awaiter(this, void 0, void 0, function () {
            var topic, member, subscription;
            var _this = this;
            return __generator(this, function (_a) {
                this.faults.checkConnected();
                topic = this.broker.topic(topicName);
                member = this.broker.join(topic, options.group, options.startAt, (0, transport_1.startAtTime)(options.startAt));
                subscription = {
                    pull: function (max, signal) {
                        if (_this.faults.disconnected)
                            return _this.faults.whenConnected(signal).then(function () { return subscription.pull(max, signal); });
                        return _this.broker.pull(member, max, signal, _this.control);
                    },
                    close: function () { return __awaiter(_this, void 0, void 0, function () {
                        return __generator(this, function (_a) {
                            this.subscriptions.delete(subscription);
                            this.broker.leave(member);
                            return [2 /*return*/];
                        });
                    }); },
                };
                this.subscriptions.add(subscription);
                return [2 /*return*/, subscription];
            });
        });
    };
    /** Reads up to `limit` retained messages from the start of the topic without consuming them. */
    MemoryTransport.prototype.browse = function (topicName, options) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                return [2 /*return*/, this.broker.browse(this.broker.topic(topicName), options.limit)];
            });
        });
    };
    /** `up` unless closed or disconnected by fault injection. */
    MemoryTransport.prototype.health = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                if (this.closed)
                    return [2 /*return*/, { status: 'down', detail: 'transport closed' }];
                if (this.faults.disconnected)
                    return [2 /*return*/, { status: 'down', detail: 'disconnected (fault injection)' }];
                return [2 /*return*/, { status: 'up', detail: 'in-memory broker' }];
            });
        });
    };
    /** Detaches every subscription; the broker and its data stay for other transports. */
    MemoryTransport.prototype.close = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        this.closed = true;
                        return [4 /*yield*/, Promise.all(__spreadArray([], this.subscriptions, true).map(function (s) { return s.close(); }))];
                    case 1:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    return MemoryTransport;
}());
exports.MemoryTransport = MemoryTransport;
/**
 * Creates an in-memory transport.
 * @example
 * const bus = createEventBus({ transport: memoryTransport(), source: 'hr-service' })
 */
function memoryTransport(options) {
    if (options === void 0) { options = {}; }
    return new MemoryTransport(options);
}
/**
 * Creates a broker to share between transports, so several buses in one process see the same
 * topics and groups.
 * @example
 * const broker = createMemoryBroker()
 * const producer = createEventBus({ transport: memoryTransport({ broker }), source: 'hr' })
 * const consumer = createEventBus({ transport: memoryTransport({ broker }), source: 'mailer' })
 */
function createMemoryBroker() {
    return new broker_js_1.MemoryBroker();
}
