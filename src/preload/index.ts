import { contextBridge } from 'electron';
import { createBridge } from './api.js';

// Sandboxed preload: only `electron` may be required; ./api.js is bundled into this file.
contextBridge.exposeInMainWorld('allsource', createBridge(process.argv, process.platform));
