"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var vitest_1 = require("@switchyard/config/vitest");
var config_1 = require("vitest/config");
exports.default = (0, config_1.defineProject)((0, vitest_1.packageProject)('adapter-memory'));
