"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
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
exports.MemoryBroker = void 0;
var deque_js_1 = require("./deque.js");
/**
 * An in-process broker: topics with bounded history and consumer groups with at-least-once
 * delivery. Share one between several transports to connect several buses in one process.
 */
var MemoryBroker = /** @class */ (function () {
    function MemoryBroker() {
        this.topics = new Map();
    }
    /** @internal */
    MemoryBroker.prototype.topic = function (name) {
        var topic = this.topics.get(name);
        if (topic === undefined) {
            topic = { name: name, history: new deque_js_1.Deque(), groups: new Map(), spaceWaiters: [], seq: 0, published: 0 };
            this.topics.set(name, topic);
        }
        return topic;
    };
    /** Backlog (waiting + in flight) per group of a topic, for tests and metrics. */
    MemoryBroker.prototype.backlog = function (topicName) {
        var out = {};
        var topic = this.topics.get(topicName);
        if (topic === undefined)
            return out;
        for (var _i = 0, _a = topic.groups.values(); _i < _a.length; _i++) {
            var group = _a[_i];
            out[group.name] = { waiting: group.queue.length, inFlight: group.inFlight };
        }
        return out;
    };
    /** @internal Largest backlog of any group of the topic. */
    MemoryBroker.prototype.fullest = function (topic) {
        var max = 0;
        for (var _i = 0, _a = topic.groups.values(); _i < _a.length; _i++) {
            var group = _a[_i];
            max = Math.max(max, group.queue.length + group.inFlight);
        }
        return max;
    };
    /** @internal Appends messages to the topic and to every group's queue. */
    MemoryBroker.prototype.append = function (topic, messages, historySize) {
        var now = Date.now();
        for (var _i = 0, messages_1 = messages; _i < messages_1.length; _i++) {
            var message = messages_1[_i];
            var stored = {
                seq: ++topic.seq,
                timestamp: now,
                key: message.key,
                headers: message.headers,
                body: message.body,
                event: message.event,
            };
            topic.published++;
            if (historySize > 0) {
                topic.history.push(stored);
                if (topic.history.length > historySize)
                    topic.history.shift();
            }
            for (var _a = 0, _b = topic.groups.values(); _a < _b.length; _a++) {
                var group = _b[_a];
                group.queue.push({ stored: stored, attempt: 1, owner: undefined });
            }
        }
        for (var _c = 0, _d = topic.groups.values(); _c < _d.length; _c++) {
            var group = _d[_c];
            this.wake(group);
        }
    };
    /** @internal Finds or creates a group, positioned per `startAt` when new. */
    MemoryBroker.prototype.join = function (topic, groupName, startAt, startTime) {
        var group = topic.groups.get(groupName);
        if (group === undefined) {
            group = { name: groupName, topic: topic, queue: new deque_js_1.Deque(), waiters: [], members: new Set(), timers: new Set(), inFlight: 0 };
            topic.groups.set(groupName, group);
            for (var _i = 0, _a = topic.history.toArray(); _i < _a.length; _i++) {
                var stored = _a[_i];
                if (startsBefore(stored, startAt, startTime))
                    group.queue.push({ stored: stored, attempt: 1, owner: undefined });
            }
        }
        var member = { group: group, inFlight: new Set(), closed: false };
        group.members.add(member);
        return member;
    };
    /** @internal Takes up to `max` deliveries for a member, or waits for some. */
    MemoryBroker.prototype.pull = function (member, max, signal, control) {
        var group = member.group;
        if (member.closed || signal.aborted)
            return Promise.resolve([]);
        if (group.queue.length > 0)
            return Promise.resolve(this.take(member, max, control));
        return new Promise(function (resolve) {
            var waiter = {
                member: member,
                max: max,
                control: control,
                resolve: function (messages) {
                    signal.removeEventListener('abort', onAbort);
                    resolve(messages);
                },
            };
            var onAbort = function () {
                var index = group.waiters.indexOf(waiter);
                if (index !== -1)
                    group.waiters.splice(index, 1);
                resolve([]);
            };
            signal.addEventListener('abort', onAbort, { once: true });
            group.waiters.push(waiter);
        });
    };
    /** @internal Detaches a member: wakes its waiters empty, returns its unsettled deliveries. */
    MemoryBroker.prototype.leave = function (member) {
        member.closed = true;
        var group = member.group;
        for (var i = group.waiters.length - 1; i >= 0; i--) {
            var waiter = group.waiters[i];
            if (waiter.member === member) {
                group.waiters.splice(i, 1);
                waiter.resolve([]);
            }
        }
        var unsettled = __spreadArray([], member.inFlight, true).reverse();
        member.inFlight.clear();
        for (var _i = 0, unsettled_1 = unsettled; _i < unsettled_1.length; _i++) {
            var delivery = unsettled_1[_i];
            group.inFlight--;
            group.queue.unshift({ stored: delivery.stored, attempt: delivery.attempt + 1, owner: undefined });
        }
        group.members.delete(member);
        this.wake(group);
    };
    /** @internal Gives delivery back now (front of the queue) or after a delay. */
    MemoryBroker.prototype.redeliver = function (group, stored, options) {
        var _this = this;
        var delivery = { stored: stored, attempt: options.attempt + 1, owner: undefined };
        if (options.delayMs <= 0) {
            group.queue.unshift(delivery);
            this.wake(group);
            return;
        }
        var timer = setTimeout(function () {
            group.timers.delete(timer);
            group.queue.push(delivery);
            _this.wake(group);
        }, options.delayMs);
        timer.unref();
        group.timers.add(timer);
    };
    /** @internal Wakes waiting publishers when a topic has room again. */
    MemoryBroker.prototype.freed = function (topic) {
        if (topic.spaceWaiters.length === 0)
            return;
        for (var _i = 0, _a = topic.spaceWaiters.splice(0); _i < _a.length; _i++) {
            var resolve = _a[_i];
            resolve();
        }
    };
    /** @internal Hands queued deliveries to waiting members, sharing them out fairly. */
    MemoryBroker.prototype.wake = function (group) {
        if (group.waiters.length === 0 || group.queue.length === 0)
            return;
        var share = Math.max(1, Math.ceil(group.queue.length / group.waiters.length));
        while (group.waiters.length > 0 && group.queue.length > 0) {
            var waiter = group.waiters.shift();
            waiter.resolve(this.take(waiter.member, Math.min(waiter.max, share), waiter.control));
        }
    };
    MemoryBroker.prototype.take = function (member, max, control) {
        var _this = this;
        var group = member.group;
        var deliveries = group.queue.take(max);
        group.inFlight += deliveries.length;
        return deliveries.map(function (delivery) { return _this.message(member, delivery, control); });
    };
    MemoryBroker.prototype.message = function (member, delivery, control) {
        var _this = this;
        var group = member.group;
        delivery.owner = member;
        member.inFlight.add(delivery);
        var stored = delivery.stored;
        var settled = false;
        var settle = function () {
            if (settled || !member.inFlight.has(delivery))
                return false;
            settled = true;
            member.inFlight.delete(delivery);
            group.inFlight--;
            return true;
        };
        var finishAck = function () {
            if (settle())
                _this.freed(group.topic);
        };
        return __assign(__assign({ topic: group.topic.name, headers: stored.headers, body: stored.body, key: stored.key, attempt: delivery.attempt, position: String(stored.seq) }, (stored.event === undefined ? {} : { event: stored.event })), { ack: function () {
                control.checkConnected();
                var delay = control.ackDelayMs();
                if (delay <= 0)
                    return finishAck();
                return new Promise(function (resolve) { return setTimeout(resolve, delay); }).then(finishAck);
            }, nack: function (options) {
                control.checkConnected();
                if (settle()) {
                    _this.redeliver(group, stored, options);
                    _this.freed(group.topic);
                }
            } });
    };
    /** @internal Deliveries as read-only messages, for dead-letter listing. */
    MemoryBroker.prototype.browse = function (topic, limit) {
        return topic.history
            .toArray()
            .slice(0, limit)
            .map(function (stored) { return (__assign(__assign({ topic: topic.name, headers: stored.headers, body: stored.body, key: stored.key, attempt: 1, position: String(stored.seq) }, (stored.event === undefined ? {} : { event: stored.event })), { ack: function () { return undefined; }, nack: function () { return undefined; } })); });
    };
    return MemoryBroker;
}());
exports.MemoryBroker = MemoryBroker;
function startsBefore(stored, startAt, startTime) {
    if (startAt === 'earliest')
        return true;
    if (startAt === 'latest')
        return false;
    if (startTime !== undefined)
        return stored.timestamp >= startTime;
    if (typeof startAt === 'object' && 'sequence' in startAt)
        return stored.seq >= Number(startAt.sequence);
    return false;
}
