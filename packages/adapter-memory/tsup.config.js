"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var tsup_1 = require("@switchyard/config/tsup");
var tsup_2 = require("tsup");
exports.default = (0, tsup_2.defineConfig)((0, tsup_1.packageBuild)());
