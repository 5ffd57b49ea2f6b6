"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Deque = void 0;
/** A FIFO with O(1) push, shift and unshift, for queues that grow to hundreds of thousands. */
var Deque = /** @class */ (function () {
    function Deque() {
        this.items = [];
        this.head = 0;
    }
    Object.defineProperty(Deque.prototype, "length", {
        get: function () {
            return this.items.length - this.head;
        },
        enumerable: false,
        configurable: true
    });
    Deque.prototype.push = function (item) {
        this.items.push(item);
    };
    Deque.prototype.unshift = function (item) {
        if (this.head > 0)
            this.items[--this.head] = item;
        else
            this.items.unshift(item);
    };
    Deque.prototype.shift = function () {
        if (this.head >= this.items.length)
            return undefined;
        var item = this.items[this.head];
        this.items[this.head++] = undefined;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
        }
        return item;
    };
    /** Removes and returns up to `n` items from the front. */
    Deque.prototype.take = function (n) {
        var count = Math.min(n, this.length);
        var out = this.items.slice(this.head, this.head + count);
        this.head += count;
        if (this.head === this.items.length) {
            this.items = [];
            this.head = 0;
        }
        else if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
        }
        return out;
    };
    /** Items from the front, without removing them. */
    Deque.prototype.toArray = function () {
        return this.items.slice(this.head);
    };
    return Deque;
}());
exports.Deque = Deque;
