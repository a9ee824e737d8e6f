// Placeholder replaced by the services setup (FerretDB/Redis) shortly.
export default function setup(): void {}
