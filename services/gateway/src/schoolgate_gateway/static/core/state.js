// Who is signed in, what this visit has loaded, and where a join has got to: the one shared state.
export const state = { me: null, cache: {}, join: null };
