// How each provider is named in messages people read (the model's vocabulary).
export { PROVIDER_LABELS } from '../model.js';
