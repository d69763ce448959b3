// A script that fetches a URL of its own (argv[2]): no provider's, nor the emulator's.
const response = await fetch(process.argv[2]);
console.log(JSON.stringify({ status: response.status }));
