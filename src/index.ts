export * from './common/errors.js';
