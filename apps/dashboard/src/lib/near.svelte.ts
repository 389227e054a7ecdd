/** The reader's "near me" answer, shared by the button and the map (browser only; never sent anywhere). */
export const near = $state<{ at: { lat: number; lon: number } | null; ids: string[] }>({ at: null, ids: [] });
