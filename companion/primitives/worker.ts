// Primitives worker thread entry. (Filled in by the primitives engine issue.)
export {};
