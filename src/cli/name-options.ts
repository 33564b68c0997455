// The flags that say what a bare name means, beside the engine's container names (engine/compose/scope.ts):
// the Compose project and replica, and for the commands that read images, --image.
export const composeOptions = {
  project: { type: 'string', short: 'p', valueName: 'NAME', description: 'Compose project whose services the name may mean (default: COMPOSE_PROJECT_NAME, the compose file here or above)' },
  index: { type: 'string', valueName: 'N', description: "Compose: the service's replica number (as web-N)" },
} as const;

/** For commands whose -p is already taken (logs -p is --previous). */
export const composeLongOptions = {
  project: { type: 'string', valueName: 'NAME', description: composeOptions.project.description },
  index: composeOptions.index,
} as const;

export const imageOption = {
  image: { type: 'boolean', description: 'The name is an image, even where a container has that name' },
} as const;
