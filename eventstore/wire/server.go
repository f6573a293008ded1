// Package wire serves any eventstore.Store with EventStoreDB's gRPC protocol,
// so that the unmodified EventStore-Client-Go v4 client (and through it the
// esdb adapter) runs against esdb://host:port. It implements what KurrentDB
// clients need for event sourcing: Streams.Append, Read (stream and $all
// reads, catch-up subscriptions with filters and checkpoints), Delete and
// Tombstone, ServerFeatures and a single-node Gossip for discovery. Every
// other RPC answers Unimplemented. The replies mirror KurrentDB's, down to
// the error trailers the client branches on.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/projections"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
)

// ServerVersion is the EventStoreDB version the server reports to clients.
// The v4 client parses it as three integers and only uses it to pick
// features, so it names the release whose protocol this package speaks.
const ServerVersion = "24.10.0"

// DefaultMaxAppendSize is KurrentDB's default limit on the bytes of one
// append (data, metadata and type of all its events).
const DefaultMaxAppendSize = 1 << 20

// minKeepaliveInterval is how often clients may ping. The v4 client pings
// every 10 s even without calls; grpc-go's default policy (5 min) would
// answer those pings with GOAWAY and drop idle subscriptions after ~30 s.
const minKeepaliveInterval = 5 * time.Second

// Server serves one eventstore.Store over gRPC. It owns its grpc.Server;
// create it with NewServer, run it with Serve, end it with Stop or
// GracefulStop. The store stays open: its owner closes it after the server.
type Server struct {
	store         eventstore.Store
	logger        *slog.Logger
	maxAppendSize int
	advertised    *endpoint
	instanceID    uuid.UUID
	grpc          *grpc.Server

	// shutdown ends the subscriptions, which would otherwise keep
	// GracefulStop waiting forever.
	shutdown       context.Context
	cancelShutdown context.CancelFunc
}

// endpoint is a host and port as gossip reports them.
type endpoint struct {
	host string
	port uint32
}

type config struct {
	creds         credentials.TransportCredentials
	logger        *slog.Logger
	maxAppendSize int
	advertised    *endpoint
}

// Option configures a Server.
type Option func(*config)

// WithCredentials serves with the given transport security, typically
// credentials.NewServerTLSFromFile(cert, key). Without it the server speaks
// plain HTTP/2, for esdb://...?tls=false.
func WithCredentials(creds credentials.TransportCredentials) Option {
	return func(c *config) { c.creds = creds }
}

// WithLogger sets where panics and unexpected store errors are reported.
// The default, and what nil means, is slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) {
		if logger != nil {
			c.logger = logger
		}
	}
}

// WithMaxAppendSize limits the bytes one append may carry; larger appends
// are refused as KurrentDB refuses them. The default, and what a
// non-positive limit means, is DefaultMaxAppendSize.
func WithMaxAppendSize(bytes int) Option {
	return func(c *config) {
		if bytes > 0 {
			c.maxAppendSize = bytes
		}
	}
}

// WithAdvertisedEndpoint sets the address gossip tells esdb+discover://
// clients to connect to. By default gossip answers with the address the
// client used to reach the server, which is right unless a proxy or NAT
// sits in between.
func WithAdvertisedEndpoint(host string, port uint16) Option {
	return func(c *config) { c.advertised = &endpoint{host: host, port: uint32(port)} }
}

// NewServer returns a server for store, not yet listening.
func NewServer(store eventstore.Store, opts ...Option) *Server {
	cfg := config{logger: slog.Default(), maxAppendSize: DefaultMaxAppendSize}
	for _, opt := range opts {
		opt(&cfg)
	}
	shutdown, cancel := context.WithCancel(context.Background())
	s := &Server{
		store:          store,
		logger:         cfg.logger,
		maxAppendSize:  cfg.maxAppendSize,
		advertised:     cfg.advertised,
		instanceID:     uuid.New(),
		shutdown:       shutdown,
		cancelShutdown: cancel,
	}

	serverOptions := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             minKeepaliveInterval,
			PermitWithoutStream: true,
		}),
		// One proposed event is one message; leave room for the largest
		// event an append may carry plus its envelope.
		grpc.MaxRecvMsgSize(max(4<<20, cfg.maxAppendSize+64<<10)),
		// Events read are encoded without the generated messages.
		grpc.ForceServerCodecV2(newCodec()),
	}
	if cfg.creds != nil {
		serverOptions = append(serverOptions, grpc.Creds(cfg.creds))
	}
	s.grpc = grpc.NewServer(serverOptions...)

	streams.RegisterStreamsServer(s.grpc, &streamsService{server: s})
	serverfeatures.RegisterServerFeaturesServer(s.grpc, &featuresService{})
	gossip.RegisterGossipServer(s.grpc, &gossipService{server: s})
	// Registered only so that their RPCs answer "method X not implemented"
	// rather than "unknown service".
	persistent.RegisterPersistentSubscriptionsServer(s.grpc, &persistent.UnimplementedPersistentSubscriptionsServer{})
	projections.RegisterProjectionsServer(s.grpc, &projections.UnimplementedProjectionsServer{})
	return s
}

// Serve accepts connections on lis until Stop or GracefulStop.
func (s *Server) Serve(lis net.Listener) error {
	return s.grpc.Serve(lis)
}

// GracefulStop ends the subscriptions (clients see Unavailable and
// reconnect elsewhere), lets appends, reads and deletes in flight finish,
// then closes the listeners.
func (s *Server) GracefulStop() {
	s.cancelShutdown()
	s.grpc.GracefulStop()
}

// Stop closes every connection and call at once.
func (s *Server) Stop() {
	s.cancelShutdown()
	s.grpc.Stop()
}

// unaryInterceptor puts an error's KurrentDB trailers on the call and turns
// a handler panic into Internal, so that a bad request never takes the
// process down.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(info.FullMethod, r)
		}
	}()
	resp, err = handler(ctx, req)
	if md := trailerOf(err); md != nil {
		_ = grpc.SetTrailer(ctx, md)
	}
	return resp, err
}

// streamInterceptor is unaryInterceptor for streaming calls.
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(info.FullMethod, r)
		}
	}()
	err = handler(srv, ss)
	if md := trailerOf(err); md != nil {
		ss.SetTrailer(md)
	}
	return err
}

func (s *Server) recovered(method string, r any) error {
	s.logger.Error("wire: handler panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal server error")
}
