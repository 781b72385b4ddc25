#!/usr/bin/env python3
"""Time per operator type in ONNX Runtime profiles (written with ISG_ORT_PROFILE=PREFIX).

Usage: python3 scripts/ort-profile-summary.py PREFIX_*.json
"""
import json,sys,collections
for f in sys.argv[1:]:
    ev=json.load(open(f))
    by=collections.Counter(); n=collections.Counter(); runs=[]
    for e in ev:
        if e.get('cat')=='Node' and e['name'].endswith('_kernel_time'):
            op=e['args'].get('op_name'); by[op]+=e['dur']; n[op]+=1
        if e.get('cat')=='Session' and e['name']=='model_run':
            runs.append(e['dur'])
    tot=sum(by.values())
    print(f, 'runs',len(runs),'run total ms',sum(runs)/1e3,'node total ms',tot/1e3)
    for op,d in by.most_common(20): print(f'  {op:40s} {d/1e3:9.1f} ms {100*d/tot:5.1f}%  n={n[op]}')
