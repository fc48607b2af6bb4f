// Every float through sparrow_silu_exp and sparrow_silu_mul at one level (argv[1]: 0 portable, 1 FMA, 2 AVX-512)
// against libm's expf and a / (1 + expf(-a)) * 1.25, bit for bit (NaNs: any NaN). Run by ./silu-exhaustive.
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "CKernels.h"
#define CH (1<<20)
int main(int argc,char**argv){
  if (argc < 2) { fprintf(stderr, "usage: silu-exhaustive LEVEL\n"); return 2; }
  int level=atoi(argv[1]);
  if (level > sparrow_silu_best_level()) { printf("level %d: not run by this CPU\n", level); return 0; }
  static float x[CH], e[CH], s[CH], b[CH];
  uint64_t bad=0, badsilu=0, nanmis=0;
  for (uint64_t base=0; base < (1ull<<32); base += CH) {
    for (int i=0;i<CH;i++){ uint32_t u=(uint32_t)(base+i); memcpy(&x[i],&u,4); b[i]=1.25f; }
    sparrow_silu_exp(level,x,e,CH);
    sparrow_silu_mul(level,x,b,s,CH);
    for (int i=0;i<CH;i++){
      float r=expf(x[i]); uint32_t ur,ue; memcpy(&ur,&r,4); memcpy(&ue,&e[i],4);
      if (ur!=ue){ if(isnan(r)&&isnan(e[i])) nanmis++; else { if(bad<5) printf("exp mismatch x=%a lib=%a ours=%a\n",x[i],r,e[i]); bad++; } }
      float rs = x[i]/(1.0f+expf(-x[i]))*1.25f; uint32_t a1,a2; memcpy(&a1,&rs,4); memcpy(&a2,&s[i],4);
      if (a1!=a2 && !(isnan(rs)&&isnan(s[i]))) { if(badsilu<5) printf("silu mismatch x=%a lib=%a ours=%a\n",x[i],rs,s[i]); badsilu++; }
      else if (a1!=a2) nanmis++;
    }
  }
  printf("level %d: exp mismatches %llu, silu mismatches %llu, NaN payload differences %llu\n",level,(unsigned long long)bad,(unsigned long long)badsilu,(unsigned long long)nanmis);
}
