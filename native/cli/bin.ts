import { main } from './main.js';

const code = await main();
process.exitCode = code;
