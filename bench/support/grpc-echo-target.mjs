// The gRPC target of bench/http2.ts, in its own process (so it does not share the load client's
// event loop): a @grpc/grpc-js server with one unary method, /bench.Echo/Unary, echoing its
// request (raw Buffer serializers, no proto). Prints its port on stdout once listening.
import * as grpc from '@grpc/grpc-js';

const id = (b) => b;
const server = new grpc.Server();
server.addService(
  {
    Unary: {
      path: '/bench.Echo/Unary',
      requestStream: false,
      responseStream: false,
      requestSerialize: id,
      requestDeserialize: id,
      responseSerialize: id,
      responseDeserialize: id,
    },
  },
  { Unary: (call, cb) => cb(null, call.request) },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${port}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
