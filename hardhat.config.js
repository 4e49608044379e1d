// The local development chain: `scripts/chain start` runs `hardhat node` on loopback with
// chain id 31337. Contracts are compiled by scripts/compile-contracts.js, not by hardhat.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
    },
  },
};
