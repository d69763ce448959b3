// Reads an FBX file with three.js's FBXLoader (what a web viewer of a 3D model uses) and
// prints its meshes as JSON.
// usage: node fbx_meshes.mjs FILE
import { readFileSync } from "node:fs";
import { FBXLoader } from "three/examples/jsm/loaders/FBXLoader.js";

const data = readFileSync(process.argv[2]);
const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
const meshes = [];
new FBXLoader().parse(buffer, "").traverse((object) => {
  if (object.isMesh) {
    const positions = object.geometry.attributes.position;
    meshes.push({ name: object.name, triangles: positions.count / 3 });
  }
});
console.log(JSON.stringify({ meshes }));
