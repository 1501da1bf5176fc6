export type * from "./provenance.js";
export type * from "./image.js";
export type * from "./snapshot.js";
export type * from "./logs.js";
export type * from "./advisory.js";
export type * from "./finding.js";
export type * from "./resources.js";
export type * from "./plan.js";
