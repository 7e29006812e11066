import { MongoServerError } from 'mongodb';

/** True for MongoDB's duplicate key error (E11000): an insert hit an id or unique key that is taken. */
export const isDuplicateKey = (err: unknown): boolean => err instanceof MongoServerError && err.code === 11000;
